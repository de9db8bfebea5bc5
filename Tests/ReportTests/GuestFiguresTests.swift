import Foundation
import Results
import Testing
import Vocabulary

@testable import Report

/// The guest table's figures from hand-made sample files whose answers are worked out
/// below: what each guest received per phase, and the table.
@Suite struct GuestFiguresTests {
  static let second: UInt64 = 1_000_000_000

  static func edge(_ seconds: UInt64, _ phase: String) -> EventRecord {
    EventRecord(
      timeNanoseconds: seconds * second, host: "lpar2", kind: .phaseEdge, detail: phase,
      milliseconds: 0)
  }

  /// Edges: busy at 0 s, idle at 4 s, end at 8 s; settle 500 ms (the synthetic cells').
  /// lpar1's two vCPU threads are sampled every second: per second of busy phase vCPU 0
  /// runs `0.6 × scale` s and waits 0.3 s, vCPU 1 runs `0.2 × scale` s and waits 0.7 s; per
  /// second of idle phase they run 0.9 and 0.5 s and wait 0.05 and 0.15 s. lpar2 has no
  /// QEMU threads; its /proc/stat counts 80 busy ticks of 100 per busy second and 30 of
  /// 100 per idle second.
  ///
  /// Windows that count: busy (1,2) and (2,3) — (0,1) starts within the settle time and
  /// (3,4) ends on the idle edge; idle (5,6) and (6,7) likewise.
  ///
  /// With `damaged`, each file also holds lines a crash or a damaged disk leaves: a torn
  /// line, a line of another shape, and a row whose number does not parse.
  static func run(damaged: Bool = false) throws -> URL {
    let modes = [
      ModeRecord(id: "out-of-box", kind: .outOfBox, label: "Out of Box"),
      ModeRecord(id: "cpuset", kind: .cpuset, label: "cpuset", hosts: ["lpar1", "lpar2"]),
    ]
    let events = [edge(0, "busy"), edge(4, "idle"), edge(8, "end")]
    let cells = [
      SyntheticStore.Cell(
        id: "out-of-box-r1", modeID: "out-of-box", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: events),
      SyntheticStore.Cell(
        id: "cpuset-r1", modeID: "cpuset", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: events),
    ]
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
    for (cell, scale) in [("out-of-box-r1", 1.0), ("cpuset-r1", 0.5)] {
      var hostSide = "time_ns,host,vcpu,run_ns,wait_ns\n"
      var samples = "time_ns,host,cpu,user,nice,system,idle,iowait,irq,softirq,steal\n"
      var ran = [0.0, 0.0]
      var wait = [0.0, 0.0]
      var busyTicks = 0
      var idleTicks = 0
      for t in 0...8 {
        if t > 0 {
          let busy = t <= 4
          ran[0] += busy ? 0.6 * scale : 0.9
          ran[1] += busy ? 0.2 * scale : 0.5
          wait[0] += busy ? 0.3 : 0.05
          wait[1] += busy ? 0.7 : 0.15
          busyTicks += busy ? 80 : 30
          idleTicks += busy ? 20 : 70
        }
        let time = UInt64(t) * second
        for vcpu in 0..<2 {
          hostSide +=
            "\(time),lpar1,\(vcpu),\(UInt64(ran[vcpu] * 1e9)),\(UInt64(wait[vcpu] * 1e9))\n"
        }
        samples += "\(time),lpar2,all,\(busyTicks),0,0,\(idleTicks),0,0,0,0\n"
        if damaged && t == 2 {
          hostSide += "\(time + second / 2),lpar1,0,99\nnot,a,row\n"
          hostSide += "\(time + second / 2),lpar1,1,x,5\n"
          samples += "\(time + second / 2),lpar2,all,7,0,0\n"
          samples += "\(time + second / 2),lpar2,all,1,0,0,-1,0,0,0,0\n"
        }
      }
      if damaged {
        hostSide += "\(9 * second),lpar1,0,1"
        samples += "\(9 * second),lpar2,all,1,2"
      }
      let folder = run.appendingPathComponent("cells/\(cell)")
      try hostSide.write(
        to: folder.appendingPathComponent("hostside.csv"), atomically: true, encoding: .utf8)
      try samples.write(
        to: folder.appendingPathComponent("samples.csv"), atomically: true, encoding: .utf8)
    }
    return run
  }

  @Test func figuresComeFromTheWindowsWhollyInsideEachPhase() throws {
    let run = try Self.run()
    defer { SyntheticStore.remove(run) }
    let busy = RunAnalysis.analyze(try RunStore.load(from: run))
    let outOfBox = try #require(busy.guests.first { $0.key.modeID == "out-of-box" })
    let lpar1 = try #require(outOfBox.hosts["lpar1"])
    #expect(abs((lpar1.cpusReceived ?? 0) - 0.8) < 1e-6)
    #expect(abs((lpar1.stealPercent ?? 0) - 50) < 1e-6)
    #expect(lpar1.busyPercent == nil)
    let lpar2 = try #require(outOfBox.hosts["lpar2"])
    #expect(lpar2.cpusReceived == nil)
    #expect(abs((lpar2.busyPercent ?? 0) - 80) < 1e-9)
    let cpuset = try #require(busy.guests.first { $0.key.modeID == "cpuset" })
    #expect(abs((cpuset.hosts["lpar1"]?.cpusReceived ?? 0) - 0.4) < 1e-6)

    let idle = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(phase: .idle))
    let idleFigures = try #require(idle.guests.first { $0.key.modeID == "out-of-box" })
    #expect(abs((idleFigures.hosts["lpar1"]?.cpusReceived ?? 0) - 1.4) < 1e-6)
    #expect(abs((idleFigures.hosts["lpar1"]?.stealPercent ?? 0) - 10) < 1e-6)
    #expect(abs((idleFigures.hosts["lpar2"]?.busyPercent ?? 0) - 30) < 1e-9)
  }

  /// The report reads past lines it cannot parse, as it reads past a torn JSON line, and
  /// the figures are those of the lines that parse.
  @Test func damagedLinesAreLeftOutOfTheFigures() throws {
    let clean = try Self.run()
    defer { SyntheticStore.remove(clean) }
    let damaged = try Self.run(damaged: true)
    defer { SyntheticStore.remove(damaged) }
    for phase in [PhaseSelection.busy, .idle, .all] {
      let options = AnalysisOptions(phase: phase)
      let expected = RunAnalysis.analyze(try RunStore.load(from: clean), options: options)
      let got = RunAnalysis.analyze(try RunStore.load(from: damaged), options: options)
      #expect(!got.guests.isEmpty)
      #expect(
        got.guests.sorted { $0.key.modeID < $1.key.modeID }
          == expected.guests.sorted { $0.key.modeID < $1.key.modeID })
    }
  }

  @Test func tableNamesEachHostAndWhatEachModeFolds() throws {
    let run = try Self.run()
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    let tables = ReportRenderer(analysis).guestTables()
    #expect(tables.count == 1)
    let text = try #require(tables.first).text()
    let lines = text.split(separator: "\n").map(String.init)
    #expect(lines.first == "Guests, busy phase")
    #expect(lines.contains { $0.hasPrefix("lpar1 (measure)") })
    /// The last two cells of the row that starts with `prefix`.
    func values(_ prefix: String) -> [String] {
      lines.first { $0.hasPrefix(prefix) }.map {
        $0.split(separator: " ").suffix(2).map(String.init)
      }
        ?? []
    }
    #expect(values("  CPUs got") == ["0.80", "0.40"])
    #expect(values("  steal") == ["50%", "50%"])
    #expect(lines.contains { $0.hasPrefix("lpar2 (noise)") })
    #expect(values("  busy") == ["80%", "80%"])
    // The footnote wraps; read it as one line.
    #expect(
      text.replacingOccurrences(of: "\n  ", with: " ").contains(
        "Hosts folded: cpuset: lpar1, lpar2."))
    for line in lines { #expect(line.count <= 72, "\(line)") }
    #expect(ReportRenderer(analysis).text().contains("Guests, busy phase"))
  }
}
