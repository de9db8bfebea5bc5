import LinuxHost
import Testing

@testable import Workloads

@Suite struct ProcStatSnapshotTests {
  static let before = """
    cpu  1000 10 500 8000 100 0 50 40 0 0
    cpu0 500 5 250 4000 50 0 25 20 0 0
    cpu1 500 5 250 4000 50 0 25 20 0 0
    intr 123456 0 0
    ctxt 999
    btime 1700000000
    """

  static let after = """
    cpu  1400 10 600 8200 100 0 50 240 0 0
    cpu0 800 5 300 4000 50 0 25 120 0 0
    cpu1 600 5 300 4200 50 0 25 120 0 0
    intr 123999 0 0
    """

  @Test func parsesEveryCPULine() throws {
    let snapshot = try ProcStatSnapshot(parsing: Self.before)
    #expect(
      snapshot.total
        == CPUTimes(
          user: 1000, nice: 10, system: 500, idle: 8000,
          iowait: 100, irq: 0, softirq: 50, steal: 40))
    #expect(snapshot.cpus.keys.sorted() == [0, 1])
    #expect(snapshot.cpus[1]?.steal == 20)
  }

  @Test func deltasGiveBusyAndSteal() throws {
    let before = try ProcStatSnapshot(parsing: Self.before)
    let after = try ProcStatSnapshot(parsing: Self.after)
    let delta = after.delta(since: before)
    // user +400, system +100, idle +200, steal +200: total 900, busy 700.
    #expect(delta.total == 900)
    #expect(delta.busy == 700)
    #expect(abs(delta.busyFraction - 700.0 / 900) < 1e-12)
    #expect(abs(delta.stealFraction - 200.0 / 900) < 1e-12)
    let cpu0 = try #require(after.cpuDeltas(since: before)[0])
    #expect(cpu0.busyFraction == 1)
    // Over both CPUs: busy 700 of 900 ticks, i.e. 1.56 CPUs of 2; with 2 workers 0.78.
    #expect(
      abs(StressCycler.busyFraction(from: before, to: after, workers: 2) - 700.0 / 900)
        < 1e-12)
    // One worker's worth: capped at 1.
    #expect(StressCycler.busyFraction(from: before, to: after, workers: 1) == 1)
  }

  @Test func oldKernelsWithFewerColumns() throws {
    let snapshot = try ProcStatSnapshot(parsing: "cpu  1 2 3 4\ncpu0 1 2 3 4\n")
    #expect(snapshot.total.steal == 0)
    #expect(snapshot.total.total == 10)
    #expect(!snapshot.stealColumn)
    // Seven counters: irq and softirq but no steal yet.
    #expect(!(try ProcStatSnapshot(parsing: "cpu 1 2 3 4 5 6 7\n")).stealColumn)
    #expect(try ProcStatSnapshot(parsing: Self.before).stealColumn)
    #expect(try ProcStatSnapshot(parsing: "cpu 1 2 3 4 5 6 7 0\n").stealColumn)
  }

  @Test func otherCPULinesAndBlankLinesAreIgnored() throws {
    let snapshot = try ProcStatSnapshot(
      parsing: "\ncpu 1 2 3 4 5 6 7 8\ncpufreq 9\ncpu12 1 1 1 1 1 1 1 1\n\nintr 1\n")
    #expect(snapshot.cpus.keys.sorted() == [12])
    #expect(snapshot.cpus[12]?.total == 8)
    #expect(snapshot.total.steal == 8)
  }

  @Test func malformedTextIsASentence() {
    #expect(throws: HostFileError.unreadable(path: "/proc/stat", reason: "it has no 'cpu' line")) {
      try ProcStatSnapshot(parsing: "intr 1 2 3\n")
    }
    #expect(
      throws: HostFileError.unreadable(
        path: "/proc/stat", reason: "line 1 has 'x' where a number belongs")
    ) {
      try ProcStatSnapshot(parsing: "cpu 1 x 3 4\n")
    }
    #expect(
      throws: HostFileError.unreadable(
        path: "/p/stat", reason: "line 2 has '18446744073709551616' where a number belongs")
    ) {
      try ProcStatSnapshot(
        parsing: "cpu 1 2 3 4\ncpu0 18446744073709551616 2 3 4\n", path: "/p/stat")
    }
    #expect(
      throws: HostFileError.unreadable(
        path: "/proc/stat", reason: "line 1 has fewer than 4 counters")
    ) {
      try ProcStatSnapshot(parsing: "cpu 1 2 3\n")
    }
  }

  @Test func readsTheRealFileAndAFakeRoot() throws {
    let real = try ProcStatSnapshot.read()
    #expect(!real.cpus.isEmpty)
    #expect(real.monotonicNanoseconds > 0)
    #expect(throws: HostFileError.self) { try ProcStatSnapshot.read(procRoot: "/nonexistent") }
  }
}
