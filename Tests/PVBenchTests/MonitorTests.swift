import AgentProtocol
import CPVBenchShims
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import Results
import Testing
import Vocabulary
import Workloads

@testable import PVBench

@Suite struct MonitorTests {
  @Test func fastSampleLineEqualsTheJSONTreeEncoding() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2)
    defer { tree.remove() }
    // An old kernel without steal (7 fields) and a CPU missing (offline) must both encode.
    try tree.write(
      "/proc/stat",
      "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 11 12 13 14 15 16 17 18 0 0\ncpu2 21 22 23 24 25 26 27\n"
        + "intr 5 6\nctxt 9\n")
    let reader = ProcStatReader(path: tree.paths.resolve("/proc/stat"))
    let line = try #require(reader.sampleEventLine(monotonicNs: 42))
    var cpus: [String: JSON] = [:]
    for row in try #require(reader.read()) { cpus["\(row.cpu)"] = .array(row.fields.map(JSON.int)) }
    #expect(line == AgentProtocol.event("samples", ["cpus": .object(cpus), "monotonic_ns": 42]))
    #expect(try JSON.parse(line)["cpus"]?["2"] == [21, 22, 23, 24, 25, 26, 27, 0])
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
    let baseline = ProcStat.parse(tree.read("/proc/stat"))
    // cpu1 went offline: absent from /proc/stat; cpu0 unchanged.
    try tree.write("/proc/stat", "cpu  1 0 0 0 0 0 0 0\ncpu0 10 0 10 100 0 0 0 0 0 0\n")
    let outcome = EvacuationMeter(paths: tree.paths).measure(
      cpus: [1], baseline: baseline, start: 0, timeout: .seconds(2), window: .milliseconds(20))
    #expect(outcome.milliseconds != nil)
    #expect(outcome.lastBusyPercent.isEmpty)
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
      return "cpu0 10 0 10 \(100 + step * 5) 0 0 0 0\ncpu1 \(10 + step * 5) 0 10 101 0 0 0 1\n"
    })
    let baseline = ProcStat.parse("cpu0 10 0 10 100 0 0 0 0\ncpu1 10 0 10 101 0 0 0 1\n")
    let outcome = meter.measure(
      cpus: [1], baseline: baseline, start: pvbMonotonicNow(), timeout: .milliseconds(200),
      window: .milliseconds(20))
    #expect(outcome.milliseconds == nil)
    #expect(outcome.lastBusyPercent[1] == 100)
    #expect(counter.reads >= 2)
  }

}

func pvbMonotonicNow() -> UInt64 { pvb_monotonic_ns() }
