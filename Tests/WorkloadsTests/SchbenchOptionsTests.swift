import LinuxHost
import Testing

@testable import Workloads

@Suite struct SchbenchOptionsTests {
  @Test func defaultsAreSchbenchs() throws {
    let options = try SchbenchOptions.parse(arguments: [])
    #expect(options.messageThreads == 1)
    // Resolved where the workload runs, from that host's CPUs (`defaultWorkers`).
    #expect(options.workersPerMessageThread == nil)
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
      "--operations", "3", "--sleep_usec", "50", "-R", "1000", "-L", "-M", "0",
      "--worker-cpus", "0-1,3", "-j", "-", "-J", "nightly", "--split", "25",
    ])
    #expect(
      options
        == SchbenchOptions(
          messageThreads: 2, workersPerMessageThread: 4, runtimeSeconds: 5, warmupSeconds: 0,
          intervalSeconds: 2, zeroSeconds: 3, sleepMicroseconds: 50, operations: 3,
          cacheFootprintKilobytes: 128, locking: false, requestsPerSecond: 1000,
          messageCPUs: [0], workerCPUs: [0, 1, 3], jsonPath: "-", jobName: "nightly",
          splitPercent: 25))
  }

  /// schbench drops the warmup of runs shorter than 30 s and of `-R` runs.
  @Test(arguments: [
    (["-w", "5", "-r", "29"], 0), (["-w", "5", "-r", "30"], 5),
    (["-w", "5", "-r", "60", "-R", "100"], 0),
  ])
  func warmupRule(arguments: [String], warmup: Int) throws {
    #expect(try SchbenchOptions.parse(arguments: arguments).warmupSeconds == warmup)
  }

  /// `-t` left out: the online CPUs of the measuring host shared by the message threads,
  /// rounded up (schbench prints "setting worker threads to N").
  @Test(arguments: [(2, 1, 2), (2, 2, 1), (8, 3, 3), (1, 4, 1), (90, 1, 90)])
  func defaultWorkersShareTheHostsCPUs(cpus: Int, messageThreads: Int, workers: Int) throws {
    #expect(
      SchbenchOptions.defaultWorkers(onlineCPUs: cpus, messageThreads: messageThreads) == workers)
    let run = try SchbenchRun(
      options: SchbenchOptions(messageThreads: messageThreads, runtimeSeconds: 1),
      onlineCPUs: cpus)
    #expect(run.workersPerMessageThread == workers)
  }

  /// `-M auto`: message thread i alone on CPU i; the workers anywhere.
  @Test func autoPinning() throws {
    let options = try SchbenchOptions.parse(arguments: ["-m", "2", "-M", "auto", "-W", "auto"])
    #expect(options.messageCPUs == [0, 1])
    #expect(options.workerCPUs == nil)
  }

  /// `--split 25` of 256 KiB with `-n 5`: 64 KiB private (side 52), 192 KiB shared (side
  /// 90); 1 multiply on private matrices, 4 on shared ones.
  @Test func splitSharesTheFootprintAndTheOperations() {
    let options = SchbenchOptions(operations: 5, splitPercent: 25)
    #expect(options.splitSides?.private == 52)
    #expect(options.splitSides?.shared == 90)
    #expect(options.splitOperations?.private == 1)
    #expect(options.splitOperations?.shared == 4)
  }

  @Test func argumentsRoundTrip() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "3", "-t", "2", "-r", "9", "-z", "4", "-L", "-R", "50", "-W", "1-2", "-J", "x",
      "--split", "40",
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
    (["-w", "40", "-r", "40"], "'-w' must be shorter than '-r' (40 s), got '40'."),
    (["--split", "101"], "'--split' must be at most 100, got '101'."),
    (["-C"], "'-C' (calibrate) is not supported by pvbench; leave it out."),
    (
      ["-A", "50"],
      "'-A' (auto-rps) is not supported by pvbench; use '-R' with a fixed rate."
    ),
    (["-P"], "unknown flag '-P'; run 'pvbench workload schbench --help' for the flags."),
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
