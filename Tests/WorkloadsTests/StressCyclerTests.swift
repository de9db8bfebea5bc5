import Foundation
import LinuxHost
import Testing

@testable import Workloads

@Suite(.serialized) struct StressCyclerTests {
  static var engines: [StressEngine] {
    Executables.find("stress-ng") != nil ? [.builtin, .stressNG] : [.builtin]
  }

  /// 300 ms busy / 300 ms idle, 2 cycles, 2 burners: five edges on schedule (generous
  /// bounds: the machine is shared), burners that run while busy and not while idle.
  @Test(arguments: engines)
  func shortCycle(engine: StressEngine) throws {
    let options = StressOptions(
      busyNanoseconds: 300_000_000, idleNanoseconds: 300_000_000, cycles: 2, workers: 2,
      engine: engine)
    let cycler = try StressCycler(options: options)
    let edges = Collected<PhaseEdge>()
    let phases = Collected<PhaseReport>()
    let started = monotonicNow()
    try cycler.start(onEdge: { edges.append($0) }, onPhase: { phases.append($0) })
    cycler.wait()
    #expect(Double(monotonicNow() - started) / 1e9 < 10)
    let seen = edges.all
    #expect(seen.map(\.phase) == [.busy, .idle, .busy, .idle, .end])
    #expect(seen.map(\.cycle) == [0, 0, 1, 1, 2])
    let origin = seen[0].scheduledMonotonicNanoseconds
    for (index, edge) in seen.enumerated() {
      #expect(edge.scheduledMonotonicNanoseconds == origin + UInt64(index) * 300_000_000)
      #expect(edge.lateNanoseconds < 100_000_000, "edge \(index) late \(edge.lateNanoseconds)")
      #expect(edge.wallNanoseconds > 1_600_000_000_000_000_000)
    }
    let reports = phases.all
    #expect(reports.map(\.phase) == [.busy, .idle, .busy, .idle])
    for report in reports {
      #expect(report.engine == engine.rawValue)
      #expect(report.workers == 2)
      let burned = try #require(report.burnerFraction)
      if report.phase == .busy {
        // Busy CPUs (ours or anyone's) over the phase, and our burners did run.
        #expect(report.busyFraction > 0.5)
        #expect(burned > 0.02, "burners ran \(burned)")
      } else {
        #expect(burned < 0.05, "burners ran \(burned) while idle")
      }
    }
    #expect(childProcesses().isEmpty, "children left: \(childProcesses())")
  }

  @Test func stopEndsEarlyAndReaps() throws {
    let options = StressOptions(
      busyNanoseconds: 200_000_000, idleNanoseconds: 200_000_000,
      durationNanoseconds: 60_000_000_000,
      workers: 1, engine: Self.engines.last!)
    let cycler = try StressCycler(options: options)
    let edges = Collected<PhaseEdge>()
    let started = monotonicNow()
    try cycler.start(onEdge: { edges.append($0) }, onPhase: { _ in })
    Thread.sleep(forTimeInterval: 0.5)
    cycler.stop()
    cycler.wait()
    #expect(Double(monotonicNow() - started) / 1e9 < 5)
    #expect(edges.all.last?.phase == .end)
    #expect(childProcesses().isEmpty)
  }

  @Test func invalidOptionsAreSentences() {
    #expect(throws: WorkloadError.invalidOption("The busy phase must be longer than 0.")) {
      try StressCycler(options: StressOptions(busyNanoseconds: 0, idleNanoseconds: 1))
    }
    #expect(
      throws: WorkloadError.invalidOption("The number of cycles must be at least 1, got 0.")
    ) {
      try StressCycler(options: StressOptions(busyNanoseconds: 1, idleNanoseconds: 1, cycles: 0))
    }
  }

  /// stress-ng processes whose parent is this test process (other suites start other
  /// children, such as the pvbench binary, in parallel).
  func childProcesses() -> [Int] {
    let me = getpid()
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int($0) }.filter { pid in
      guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else {
        return false
      }
      let text = String(decoding: data, as: UTF8.self)
      guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
        text[text.index(after: open)..<close].hasPrefix("stress-ng")
      else { return false }
      let fields = text[text.index(after: close)...].split(separator: " ")
      return fields.count > 2 && Int(fields[1]) == Int(me)
    }
  }
}
