import Foundation
import PVBenchTestSupport
import Testing

@Suite(.serialized) struct WorkloadTests {
  @Test(arguments: [
    (["-m", "0"], "pvbench workload schbench: '-m' must be at least 1, got '0'.\n"),
    (["-r", "ten"], "pvbench workload schbench: '-r' must be a whole number, got 'ten'.\n"),
    (
      ["--threads", "-1"], "pvbench workload schbench: '--threads' must be at least 1, got '-1'.\n"
    ),
  ])
  func schbenchBadFlagsExitTwo(arguments: [String], message: String) throws {
    let result = try CLI.run(["workload", "schbench"] + arguments, timeout: 60)
    #expect(result.status == 2)
    #expect(result.stderr == message)
    #expect(result.stdout == "")
  }

  /// A two-second run: schbench's blocks on stderr (parsed the way lkp-tests does, line by
  /// line) and the JSON summary on stdout with `-j -`.
  @Test func schbenchRunPrintsTheLayoutAndJSON() throws {
    let result = try CLI.run(
      ["workload", "schbench", "-m", "1", "-t", "2", "-r", "2", "-F", "8", "-n", "1", "-j", "-"],
      timeout: 60)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
    let headers = lines.filter { $0.contains(" percentiles (") }
    #expect(headers.count == 3)
    #expect(headers[0].hasPrefix("Wakeup Latencies percentiles (usec) runtime 2 (s) ("))
    #expect(headers[1].hasPrefix("Request Latencies percentiles (usec) runtime 2 (s) ("))
    #expect(headers[2].hasPrefix("RPS percentiles (requests) runtime 2 (s) ("))
    let percentileLine = #/^\t[* ] [ 0-9][0-9]\.[0-9]th: [0-9]+ +\([0-9]+ samples\)$/#
    let percentileLines = lines.filter { $0.contains("th: ") }
    #expect(percentileLines.count == 11)
    for line in percentileLines {
      #expect(String(line).wholeMatch(of: percentileLine) != nil, "\(line)")
    }
    #expect(lines.filter { $0.hasPrefix("\t* 99.0th: ") }.count == 2)
    #expect(lines.filter { $0.hasPrefix("\t* 50.0th: ") }.count == 1)
    #expect(lines.filter { $0.hasPrefix("\t  min=") }.count == 3)
    let average = try #require(lines.first { $0.hasPrefix("average rps: ") })
    #expect(average.wholeMatch(of: #/average rps: [0-9]+\.[0-9]{2}/#) != nil)

    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    let summary = try #require(json)
    #expect((summary["averageRPS"] as? Double ?? 0) > 0)
    #expect((summary["commandLine"] as? [String])?.suffix(2) == ["-j", "-"])
    let wakeup = try #require(summary["wakeupLatency"] as? [String: Any])
    #expect((wakeup["samples"] as? Int ?? 0) > 0)
    #expect((wakeup["percentiles"] as? [Any])?.count == 13)
  }

  /// pvbench's output has upstream schbench's lines, in its order, for the same flags:
  /// compared with output captured from schbench 24e32b8 on this machine, each line with
  /// its numbers masked (the cheap `-F 8 -n 1 -s 0` request changes numbers, not lines).
  /// Covers the progress block's `sched delay:`/`current rps:`, the final `average rps:`
  /// and `sched delay:`, `setting worker threads to N`, and the `-M` pinning notices.
  @Test(arguments: [
    ("schbench-m1-t2-r3-i2.txt", ["-m", "1", "-t", "2", "-r", "3", "-i", "2"]),
    ("schbench-m1-r2.txt", ["-m", "1", "-r", "2"]),
    ("schbench-m1-t2-r3-R200.txt", ["-m", "1", "-t", "2", "-r", "3", "-R", "200"]),
    ("schbench-m2-t1-M0-1-r2.txt", ["-m", "2", "-t", "1", "-M", "0-1", "-r", "2"]),
  ])
  func schbenchLinesMatchUpstreams(fixture: String, flags: [String]) throws {
    let path = CLI.packageRoot.appendingPathComponent("Tests/WorkloadsTests/Fixtures/\(fixture)")
    let upstream = try String(contentsOf: path, encoding: .utf8)
    let result = try CLI.run(
      ["workload", "schbench"] + flags + ["-F", "8", "-n", "1", "-s", "0"], timeout: 60)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(shape(result.stderr) == shape(upstream))
  }

  /// Numbers masked, and lines whose order two threads decide (pinning notices) sorted.
  func shape(_ text: String) -> [String] {
    let masked = text.split(separator: "\n").map {
      String($0).replacing(#/[0-9]+(\.[0-9]+)? */#, with: "N ")
    }
    let pins = masked.filter { $0.hasPrefix("Pinning") }.sorted()
    return pins + masked.filter { !$0.hasPrefix("Pinning") }
  }

  @Test func schbenchHelpListsTheFlags() throws {
    let result = try CLI.run(["workload", "schbench", "--help"], timeout: 60)
    #expect(result.status == 0)
    for flag in ["--message-threads", "--cache_footprint", "--no-locking", "--json"] {
      #expect(result.stdout.contains(flag), "\(flag)")
    }
  }

  @Test(arguments: [
    (["--idle", "1s"], "pvbench workload stress: '--busy' is required, e.g. '--busy 300ms'.\n"),
    (
      ["--busy", "0s", "--idle", "1s"],
      "pvbench workload stress: '--busy' must be longer than 0, got '0s'.\n"
    ),
    (
      ["--busy", "fast", "--idle", "1s"],
      "pvbench workload stress: '--busy' must be a duration such as '300ms' or '2s', got 'fast'.\n"
    ),
    (
      ["--busy", "1s", "--idle", "1s", "--workers", "0"],
      "pvbench workload stress: '--workers' must be at least 1, got '0'.\n"
    ),
    (
      ["--busy", "1s", "--idle", "1s", "--engine", "fast"],
      "pvbench workload stress: '--engine' must be stress-ng, builtin or auto, got 'fast'.\n"
    ),
  ])
  func stressBadFlagsExitTwo(arguments: [String], message: String) throws {
    let result = try CLI.run(["workload", "stress"] + arguments, timeout: 60)
    #expect(result.status == 2)
    #expect(result.stderr == message)
  }

  @Test func stressStreamsEdgesAsJSONLines() throws {
    let result = try CLI.run(
      [
        "workload", "stress", "--busy", "200ms", "--idle", "200ms", "--cycles", "1", "--workers",
        "1", "--engine", "builtin", "--json",
      ], timeout: 60)
    #expect(result.status == 0, "\(result.stderr)")
    let objects = result.stdout.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: [String: Any]]
    }
    let edges = objects.compactMap { $0["edge"]?["phase"] as? String }
    let phases = objects.compactMap { $0["phase"]?["phase"] as? String }
    #expect(edges == ["busy", "idle", "end"])
    #expect(phases == ["busy", "idle"])
  }

  /// SIGINT mid-cycle: exit 130, and the stress-ng processes it started are gone.
  @Test func stressInterruptedReapsStressNG() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/stress-ng") else { return }
    let process = Process()
    process.executableURL = CLI.binary
    process.arguments = [
      "workload", "stress", "--busy", "300ms", "--idle", "300ms", "--duration", "60s",
      "--workers", "1", "--engine", "stress-ng",
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    var group: [Int32] = []
    for _ in 0..<100 where group.isEmpty {
      Thread.sleep(forTimeInterval: 0.05)
      group = processes(inGroupLedBy: childrenOf(process.processIdentifier))
    }
    Thread.sleep(forTimeInterval: 0.5)
    kill(process.processIdentifier, SIGINT)
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    #expect(!group.isEmpty, "stress-ng never started")
    let left = group.filter { FileManager.default.fileExists(atPath: "/proc/\($0)/stat") }
    #expect(left.isEmpty, "stress-ng left running: \(left)")
  }

  /// SIGINT mid-run: the totals so far are still printed, then exit 130.
  @Test func schbenchInterruptedPrintsTotals() throws {
    let process = Process()
    process.executableURL = CLI.binary
    process.arguments = ["workload", "schbench", "-m", "1", "-t", "2", "-r", "60", "-F", "8"]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    Thread.sleep(forTimeInterval: 1.5)
    kill(process.processIdentifier, SIGINT)
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if process.isRunning { process.terminate() }
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    #expect(text.contains("Wakeup Latencies percentiles (usec) runtime "))
    #expect(text.hasSuffix("\n") && text.contains("average rps: "))
  }

  private func stat(_ pid: Int32) -> [Substring]? {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
    let text = String(decoding: data, as: UTF8.self)
    guard let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(after: close)...].split(separator: " ")
  }

  private func allPIDs() -> [Int32] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap {
      Int32($0)
    }
  }

  private func childrenOf(_ parent: Int32) -> [Int32] {
    allPIDs().filter { stat($0).map { Int32($0[1]) == parent } ?? false }
  }

  /// Every process whose process group is one of `leaders`.
  private func processes(inGroupLedBy leaders: [Int32]) -> [Int32] {
    allPIDs().filter { pid in
      guard let fields = stat(pid), let group = Int32(fields[2]) else { return false }
      return leaders.contains(group)
    }
  }
}
