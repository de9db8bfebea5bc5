import Foundation
import PVBenchTestSupport
import Testing

/// `pvbench restore` from the command line, on a journal written by hand.
@Suite struct RestoreCommandTests {
  @Test func replaysAJournalLeftBehindThenHasNothingToDo() throws {
    let folder = try ScratchFolder("e2e")
    defer { folder.remove() }
    let root = folder.path
    try folder.writeRootWithCPU3Offline(more: [
      "/sys/devices/system/cpu/cpu2/online": "1\n",
      "/sys/devices/system/cpu/paravirt": "2-3\n",
      // pid 999999 is no running agent, as after a crash.
      "/run/pvbench/journal-999999.jsonl": """
      {"kind":"begin","name":"pvbench 0.1.0","pid":999999}
      {"kind":"write","original":"","path":"/sys/devices/system/cpu/paravirt","value":"2-3"}
      {"kind":"write","original":"1","path":"/sys/devices/system/cpu/cpu3/online","value":"0"}
      {"kind":"write","original":"1","path":"/sys/devices/system/cpu/cpu2/online","value":"0"}
      {"kind":"wri
      """,
    ])
    let first = try CLI.run(["restore", "--root", root])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(
      first.stdout == "\(root)/run/pvbench/journal-999999.jsonl: restored 2 changes, verified\n")
    #expect(
      try String(contentsOfFile: root + "/sys/devices/system/cpu/online", encoding: .utf8)
        == "0-3\n")
    #expect(
      try String(contentsOfFile: root + "/sys/devices/system/cpu/paravirt", encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines) == "")
    #expect(!FileManager.default.fileExists(atPath: root + "/run/pvbench/journal-999999.jsonl"))
    let second = try CLI.run(["restore", "--root", root])
    #expect(second.status == 0)
    #expect(second.stdout == "nothing to restore\n")
  }
}
