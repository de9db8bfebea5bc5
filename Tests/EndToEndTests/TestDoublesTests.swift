import Foundation
import PVBenchTestSupport
import Testing

/// `pvbench` itself holds no test double: the fake kernel and the crash injector live only
/// in the test build of the command line (`pvbench-testing`).
@Suite struct TestDoublesTests {
  @Test func pvbenchHoldsNeitherDouble() throws {
    let pvbench = try Data(contentsOf: CLI.pvbench)
    let testing = try Data(contentsOf: CLI.binary)
    for name in ["PVBENCH_CRASH_AT_STEP", "FakeKernelSysfsWriter", "CrashInjector"] {
      #expect(pvbench.range(of: Data(name.utf8)) == nil, "pvbench holds '\(name)'")
      // The same search finds them where they are, so it can fail.
      #expect(testing.range(of: Data(name.utf8)) != nil, "pvbench-testing lacks '\(name)'")
    }
  }

  /// Under another root, `pvbench` writes the files as they are: restoring `cpu3/online`
  /// does not update the derived `cpu/online`, as the fake kernel would.
  @Test func pvbenchWritesAnotherRootPlainly() throws {
    let folder = try ScratchFolder("plain")
    defer { folder.remove() }
    let root = folder.path
    try folder.writeRootWithCPU3Offline(more: [
      "/run/pvbench/journal-999999.jsonl": """
      {"kind":"begin","name":"pvbench 0.1.0","pid":999999}
      {"kind":"write","original":"1","path":"/sys/devices/system/cpu/cpu3/online","value":"0"}

      """
    ])
    let result = try CLI.run(
      ["restore", "--root", root], environment: ["PVBENCH_CRASH_AT_STEP": "1"],
      binary: CLI.pvbench)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stdout == "\(root)/run/pvbench/journal-999999.jsonl: restored 1 change, verified\n")
    #expect(
      try String(contentsOfFile: root + "/sys/devices/system/cpu/cpu3/online", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    #expect(
      try String(contentsOfFile: root + "/sys/devices/system/cpu/online", encoding: .utf8)
        == "0-2\n")
  }
}
