import Foundation
import LinuxHost
import Testing

@Suite struct SchedStatTests {
  @Test func parsesTheThreeCounters() throws {
    #expect(
      try SchedStat(parsing: "123 456 7\n")
        == SchedStat(runNanoseconds: 123, waitNanoseconds: 456, timeslices: 7))
    // A later kernel adding a field still parses.
    #expect(try SchedStat(parsing: "1 2 3 4\n").timeslices == 3)
  }

  @Test func malformedTextIsASentence() {
    #expect(
      throws: HostFileError.unreadable(
        path: "/p/schedstat", reason: "it has 1 fields where 3 belong")
    ) { try SchedStat(parsing: "garbage\n", path: "/p/schedstat") }
    #expect(
      throws: HostFileError.unreadable(
        path: "schedstat", reason: "it has '-5' where a number belongs")
    ) { try SchedStat(parsing: "1 -5 3\n") }
  }

  @Test func pathsOfProcessesAndThreads() {
    #expect(SchedStat.path(process: "self", thread: 12) == "/proc/self/task/12/schedstat")
    #expect(SchedStat.path(process: "42", procRoot: "/tmp/x") == "/tmp/x/42/schedstat")
  }

  @Test func readsAFakeTreeAndThisThread() throws {
    let root = NSTemporaryDirectory() + "pvbench-schedstat-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(
      atPath: "\(root)/42/task/7", withIntermediateDirectories: true)
    try "10 20 30\n".write(
      toFile: "\(root)/42/task/7/schedstat", atomically: true, encoding: .utf8)
    #expect(
      SchedStat.read(pid: 42, tid: 7, procRoot: root)
        == SchedStat(runNanoseconds: 10, waitNanoseconds: 20, timeslices: 30))
    #expect(SchedStat.read(pid: 42, tid: 8, procRoot: root) == nil)
    #expect(
      throws: HostFileError.unreadable(
        path: "\(root)/43/schedstat", reason: "the file is missing or unreadable")
    ) { try SchedStat.read(path: SchedStat.path(process: "43", procRoot: root)) }
    // This process has run for some time already.
    #expect((SchedStat.read(pid: getpid())?.runNanoseconds ?? 0) > 0)
  }
}
