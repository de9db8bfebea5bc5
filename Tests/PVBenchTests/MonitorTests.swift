import AgentProtocol
import CPVBenchShims
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Results
import Testing
import Vocabulary

@Suite struct MonitorTests {
  /// An old kernel's line without steal (7 fields), a CPU missing (offline) and CPU 10, whose
  /// key sorts before CPU 2's.
  static let stat =
    "cpu  100 2 3 4 5 6 7 8 0 0\ncpu0 11 12 13 14 15 16 17 18 0 0\ncpu2 21 22 23 24 25 26 27\n"
    + "cpu10 1 2 3 4 5 6 7 8 0 0\nintr 5 6\nctxt 9\n"

  @Test func sampleLineEqualsTheJSONTreeEncodingAndDecodesBack() throws {
    let snapshot = try ProcStatSnapshot(parsing: Self.stat, monotonicNanoseconds: 42)
    let sample = CPUSample(snapshot)
    let line = sample.eventLine
    #expect(line == AgentProtocol.event(CPUSample.eventName, sample.members))
    #expect(
      line
        == #"{"cpus":{"0":[11,12,13,14,15,16,17,18],"10":[1,2,3,4,5,6,7,8],"#
        + #""2":[21,22,23,24,25,26,27,0]},"event":"samples","monotonic_ns":42,"#
        + #""total":[100,2,3,4,5,6,7,8]}"#)
    #expect(CPUSample(event: try JSON.parse(line)) == sample)
  }

  /// The controller's total is the aggregate line, which keeps offline CPUs' past ticks;
  /// a sum of the per-CPU arrays would shrink when a CPU goes offline.
  @Test func theControllerTakesTheAggregateLineAsTotal() throws {
    let line = CPUSample(try ProcStatSnapshot(parsing: Self.stat, monotonicNanoseconds: 7))
      .eventLine
    guard
      case .cpuSample(let time, let total, let perCPU)? =
        AgentHostSession.event(from: try JSON.parse(line))
    else {
      Issue.record("not a cpuSample event")
      return
    }
    #expect(time == 7)
    #expect(
      total
        == CPUTimes(
          user: 100, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8))
    #expect(perCPU.keys.sorted() == [0, 2, 10])
    // An agent that sends no total: the sum of its CPUs stands in.
    let old = try JSON.parse(
      #"{"cpus":{"0":[1,2,3,4,5,6,7,8],"1":[1,1,1,1,1,1,1,1]},"#
        + #""event":"samples","monotonic_ns":5}"#)
    #expect(
      CPUSample(event: old)?.total
        == CPUTimes(
          user: 2, nice: 3, system: 4, idle: 5, iowait: 6, irq: 7, softirq: 8, steal: 9))
    #expect(CPUSample(event: ["event": "samples", "cpus": [:]]) == nil)
  }

  @Test func theSamplerSendsTheSameLineForTheHostFile() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1)
    defer { tree.remove() }
    try tree.write("/proc/stat", Self.stat)
    final class Lines: @unchecked Sendable {
      let lock = NSLock()
      var lines: [String] = []
    }
    let lines = Lines()
    let monitors = MonitorSet(paths: tree.paths)
    let reply = try monitors.startSampling(params: ["interval_ms": 10]) { line in
      lines.lock.withLock { lines.lines.append(line) }
    }
    for _ in 0..<200 where lines.lock.withLock({ lines.lines.isEmpty }) { usleep(5_000) }
    monitors.stopSampling()
    #expect(reply["fields"] == CPUSample.fieldNames)
    let first = try #require(lines.lock.withLock { lines.lines.first })
    let sample = try #require(CPUSample(event: try JSON.parse(first)))
    #expect(sample.monotonicNanoseconds > 0)
    var expected = try ProcStatSnapshot(parsing: Self.stat)
    expected.monotonicNanoseconds = sample.monotonicNanoseconds
    #expect(first == CPUSample(expected).eventLine)
  }

  @Test func kernelLogMarkersAreRecognised() {
    #expect(KernelLog.warning(in: "4,77,123,-;WARNING: CPU: 3 PID: 1 at x.c:9") != nil)
    #expect(KernelLog.warning(in: "1,78,124,-;Oops: 0000 [#1] SMP") == "Oops: 0000 [#1] SMP")
    #expect(
      KernelLog.warning(in: "2,79,125,-;kernel BUG: at mm/x.c:1") == "kernel BUG: at mm/x.c:1")
    #expect(KernelLog.warning(in: "6,80,126,-;eth0: link up") == nil)
  }

  @Test func evacuationCountsOfflineAndIdleCPUsAsEvacuated() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1)
    defer { tree.remove() }
    let baseline = try ProcStatSnapshot(parsing: tree.read("/proc/stat"))
    // cpu1 went offline: absent from /proc/stat; cpu0 unchanged.
    try tree.write("/proc/stat", "cpu  1 0 0 0 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\n")
    let outcome = EvacuationMeter(paths: tree.paths).measure(
      cpus: [1], baseline: baseline, start: 0, timeout: .seconds(2), window: .milliseconds(20))
    #expect(outcome.milliseconds != nil)
    #expect(outcome.lastBusyPercent.isEmpty)
  }

  /// An unreadable or malformed /proc/stat proves nothing: no window counts, so the meter
  /// times out instead of reporting an evacuation it never saw.
  @Test func unreadableReadingsAreNotAnEvacuation() throws {
    let baseline = try ProcStatSnapshot(parsing: "cpu 0 0 0 0\ncpu1 10 0 10 101 0 0 0 1\n")
    for text in [nil, "cpu1 x\n"] as [String?] {
      let outcome = EvacuationMeter(readStat: { text }).measure(
        cpus: [1], baseline: baseline, start: pvbMonotonicNow(), timeout: .milliseconds(100),
        window: .milliseconds(20))
      #expect(outcome.milliseconds == nil)
      #expect(outcome.lastBusyPercent.isEmpty)
    }
  }

  @Test func evacuationTimesOutWhileACPUStaysBusy() throws {
    final class Counter: @unchecked Sendable {
      var reads = 0
    }
    let counter = Counter()
    // Every read, cpu1 has spent 5 more ticks in user and none idle: 100 % busy.
    let meter = EvacuationMeter(readStat: {
      counter.reads += 1
      let step = counter.reads
      return "cpu 0 0 0 0\ncpu0 10 0 10 \(100 + step * 5) 0 0 0 0\n"
        + "cpu1 \(10 + step * 5) 0 10 101 0 0 0 1\n"
    })
    let baseline = try ProcStatSnapshot(
      parsing: "cpu 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0\ncpu1 10 0 10 101 0 0 0 1\n")
    let outcome = meter.measure(
      cpus: [1], baseline: baseline, start: pvbMonotonicNow(), timeout: .milliseconds(200),
      window: .milliseconds(20))
    #expect(outcome.milliseconds == nil)
    #expect(outcome.lastBusyPercent[1] == 100)
    #expect(counter.reads >= 2)
  }

}

func pvbMonotonicNow() -> UInt64 { pvb_monotonic_ns() }
