import Controller
import Experiments
import Foundation
import LinuxHost
import PVBenchTestSupport
import Testing
import Vocabulary

@Suite struct ManifestRecordsTests {
  @Test func cpuModelIsReadFromCPUInfo() {
    #expect(
      CPUInfo.model(parsing: "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n")
        == "AMD EPYC")
    #expect(
      CPUInfo.model(parsing: "processor\t: 0\ncpu\t\t: POWER10 (architected), altivec supported\n")
        == "POWER10 (architected), altivec supported")
    #expect(CPUInfo.model(parsing: "processor\t: 0\n") == nil)
  }

  @Test func theWorkloadIsRecordedAsASchbenchCommandLine() throws {
    let dir = try ScratchFolder("manifest")
    defer { dir.remove() }
    let path = try dir.write(
      """
      name: w
      hosts:
        vm1: { qemu: { vcpus: 4 }, entitled: 2 }
        vm2: { qemu: { vcpus: 2 }, entitled: 1 }
      measure:
        host: vm1
        schbench: { message_threads: 2, runtime: 40s, interval: 2s, rps: 500 }
      modes: [out-of-box]
      trigger: static
      """, to: "w.yaml")
    let loaded = try ExperimentLoader.load(path: path) { _ in CPUSet(0...3) }
    let record = RunController.workloadRecord(loaded.experiment)
    // No -t: the measured host resolves the workers from its own CPUs when the cell
    // starts (cell.json records the value), as schbench does.
    #expect(
      record.schbenchCommandLine
        == "schbench -m 2 -r 40 -w 0 -i 2 -s 100 -n 5 -F 256 -R 500")
    #expect(record.expectedIntervals == 20)
    #expect(record.requestsPerSecond == 500)
  }
}
