import LinuxHost
import Testing

@testable import Workloads

@Suite struct SchbenchOptionsTests {
  @Test func defaultsAreSchbenchs() throws {
    let options = try SchbenchOptions.parse(arguments: [])
    #expect(options.messageThreads == 1)
    #expect(options.workersPerMessageThread == SchbenchOptions.onlineCPUCount)
    #expect(options.runtimeSeconds == 30)
    #expect(options.warmupSeconds == 0)
    #expect(options.intervalSeconds == 10)
    #expect(options.zeroSeconds == nil)
    #expect(options.sleepMicroseconds == 100)
    #expect(options.operations == 5)
    #expect(options.cacheFootprintKilobytes == 256)
    #expect(options.locking)
    #expect(options.requestsPerSecond == nil)
  }

  @Test func shortLongAndInlineForms() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "2", "-t4", "--runtime", "5", "--warmuptime=1", "-i", "2", "-z", "3", "-F", "128",
      "--operations", "3", "-s", "50", "-R", "1000", "-L", "-M", "0", "--worker-cpus", "0-1,3",
      "-j", "-",
    ])
    #expect(
      options
        == SchbenchOptions(
          messageThreads: 2, workersPerMessageThread: 4, runtimeSeconds: 5, warmupSeconds: 1,
          intervalSeconds: 2, zeroSeconds: 3, sleepMicroseconds: 50, operations: 3,
          cacheFootprintKilobytes: 128, locking: false, requestsPerSecond: 1000,
          messageCPUs: [0], workerCPUs: [0, 1, 3], jsonPath: "-"))
  }

  @Test func argumentsRoundTrip() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "3", "-t", "2", "-r", "9", "-z", "4", "-L", "-R", "50", "-W", "1-2",
    ])
    #expect(try SchbenchOptions.parse(arguments: options.arguments) == options)
  }

  @Test func matrixSideSplitsTheFootprintInThree() {
    // 256 KiB / 3 / 8 bytes = 10922 elements: side 104 (104² = 10816, 105² = 11025).
    #expect(SchbenchOptions(cacheFootprintKilobytes: 256).matrixSide == 104)
    #expect(SchbenchOptions(cacheFootprintKilobytes: 0).matrixSide == 0)
  }

  @Test(arguments: [
    (["-m", "0"], "'-m' must be at least 1, got '0'."),
    (["-t", "-3"], "'-t' must be at least 1, got '-3'."),
    (["-r", "abc"], "'-r' must be a whole number, got 'abc'."),
    (["--runtime", "1.5"], "'--runtime' must be a whole number, got '1.5'."),
    (["-s", "-1"], "'-s' must be at least 0, got '-1'."),
    (["-m"], "'-m' needs a value."),
    (["-x", "1"], "unknown flag '-x'; run 'pvbench workload schbench --help' for the flags."),
    (
      ["--bogus"],
      "unknown flag '--bogus'; run 'pvbench workload schbench --help' for the flags."
    ),
    (["-M", "1-"], "'-M' must be a CPU list such as '0-3,8', got '1-'."),
    (["-L1"], "'-L' takes no value, got '1'."),
    (["-p", "4"], "'-p' (pipe mode) is not supported by pvbench; leave it out."),
    (["7"], "unexpected argument '7'; schbench flags take the form '-m 2'."),
    (["-w", "10", "-r", "10"], "'-w' must be shorter than '-r' (10 s), got '10'."),
    (["-t", "5000"], "'-t' must be at most 4096, got '5000'."),
  ])
  func badFlagsAreSentences(arguments: [String], message: String) {
    #expect(throws: WorkloadError.invalidOption(message)) {
      try SchbenchOptions.parse(arguments: arguments)
    }
  }

  @Test func cpuLists() {
    #expect(CPUSet.parse("0-3,8,10-11") == [0, 1, 2, 3, 8, 10, 11])
    #expect(CPUSet.parse(" 5 \n") == [5])
    #expect(CPUSet.parse("3-1") == nil)
    #expect(CPUSet.parse("") == nil)
    #expect(CPUSet.parse("a") == nil)
    #expect(CPUSet.format([0, 1, 2, 3, 8, 10, 11]) == "0-3,8,10-11")
  }
}
