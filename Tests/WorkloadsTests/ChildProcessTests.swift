import Foundation
import LinuxHost
import Testing

#if canImport(Glibc)
  import Glibc
#endif

@Suite(.serialized) struct ChildProcessTests {
  @Test func inputGoesToStandardInputAndOutputComesBackWhole() {
    // 1 MiB through cat: far beyond a pipe's buffer and the stderr collector's 64 KiB.
    let input = Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) })
    let result = ChildProcess.run("/bin/cat", [], input: input, timeout: 30)
    #expect(result.status == 0)
    #expect(result.stdoutData == input)
    #expect(!result.timedOut)
  }

  @Test func aChildThatDoesNotReadItsInputIsNotAnError() {
    let result = ChildProcess.run(
      "/bin/sh", ["-c", "echo done; exit 3"], input: Data(count: 1 << 20), timeout: 30)
    #expect(result.status == 3)
    #expect(result.stdout == "done\n")
  }

  @Test func workingDirectoryAndEnvironment() throws {
    let folder = NSTemporaryDirectory() + "pvbench-child-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let real = try #require(realpath(folder, nil))
    defer { free(real) }
    let result = ChildProcess.run(
      "/bin/sh", ["-c", "pwd -P; echo \"$PVB_X\" >&2"], environment: ["PVB_X": "x1"],
      workingDirectory: folder)
    #expect(result.stdout == String(cString: real) + "\n")
    #expect(result.stderr == "x1\n")
  }

  @Test func aCommandThatCannotStart() {
    let result = ChildProcess.run("/nonexistent/tool", [])
    #expect(result.status == 127)
    #expect(result.stderr == "cannot start /nonexistent/tool: No such file or directory")
    #expect(throws: ChildProcess.SpawnError.self) {
      try ChildProcess.collect("/bin/true", [], workingDirectory: "/nonexistent/folder")
    }
  }

  @Test func aCommandOverItsTimeLimitIsTerminated() {
    let result = ChildProcess.run("/bin/sleep", ["30"], timeout: 0.2)
    #expect(result.timedOut)
    #expect(result.status == 128 + SIGTERM)
  }

  /// The child starts with default dispositions, nothing blocked, in its own process group,
  /// even while this process ignores a signal (as the controller ignores SIGINT).
  @Test func theChildGetsDefaultSignalsAndItsOwnGroup() throws {
    let previous = signal(SIGUSR2, SIG_IGN)
    defer { signal(SIGUSR2, previous) }
    // cat reports on itself: its status (masks) and stat (pid, process group).
    let result = ChildProcess.run("/bin/cat", ["/proc/self/status", "/proc/self/stat"])
    let lines = result.stdout.split(separator: "\n")
    func mask(_ name: String) throws -> UInt64 {
      let line = try #require(lines.first { $0.hasPrefix(name + ":\t") })
      return try #require(UInt64(line.dropFirst(name.count + 2), radix: 16))
    }
    #expect(try mask("SigBlk") == 0)
    // Of the standard signals 1-31 none is ignored (glibc's posix_spawn leaves its own
    // internal signals 32 and 33 ignored; the child's libc takes them over).
    #expect(try mask("SigIgn") & 0x7fff_ffff == 0)
    // stat: "pid (cat) state ppid pgrp …".
    let stat = try #require(lines.last).split(separator: " ")
    try #require(stat.count > 4)
    #expect(stat[0] == stat[4], "cat leads its own process group")
  }
}
