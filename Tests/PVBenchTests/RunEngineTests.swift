import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// `pvbench run` end to end with two local agents: the measure host acts on a fake
/// kernel tree (so nothing on this machine changes), the noise host burns this
/// machine's real CPUs and reports real /proc/stat.
@Suite(.serialized) struct RunEngineTests {
  let fake: FakeHostTree
  let work: URL

  init() throws {
    fake = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  func experiment(repeat repetitions: Int = 1, engine: String = "builtin") throws -> String {
    let path = work.appendingPathComponent("e2e.yaml").path
    let experiment = LocalExperiment(
      name: "e2e", root: fake.root, workers: 2, runtime: "7s", busy: "2500ms", idle: "2500ms",
      burners: 2, engine: engine, modes: ["out-of-box", "cpuset: { cpus: non-entitled }"],
      repetitions: repetitions)
    try experiment.yaml.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  /// The fake tree without the journal folder the agent keeps in it.
  func state() -> [String: String] {
    fake.snapshot().filter { !$0.key.contains("/run") }
  }

  /// Paths whose content differs between two states, for a readable failure.
  func changes(_ before: [String: String], _ after: [String: String]) -> [String] {
    Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted().map {
      "\($0): \(before[$0] ?? "absent") -> \(after[$0] ?? "absent")"
    }
  }

  func cells(in run: String) throws -> [(summary: CellSummary, intervals: [IntervalRecord])] {
    let cellsDirectory = URL(fileURLWithPath: run).appendingPathComponent("cells")
    return try FileManager.default.contentsOfDirectory(atPath: cellsDirectory.path).sorted().map {
      let folder = cellsDirectory.appendingPathComponent($0)
      let summary = try JSONDecoder().decode(
        CellSummary.self, from: Data(contentsOf: folder.appendingPathComponent("cell.json")))
      let lines = try String(
        contentsOf: folder.appendingPathComponent("intervals.jsonl"), encoding: .utf8
      ).split(separator: "\n")
      let intervals = try lines.map {
        try JSONDecoder().decode(IntervalRecord.self, from: Data($0.utf8))
      }
      return (summary, intervals)
    }
  }

  @Test func runWritesPhaseTaggedCellsAndRestoresTheHost() throws {
    defer {
      fake.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let before = state()
    // An agent that died with cpu1 offline left its journal: the run's agent restores it
    // before its hello, and the run says so and records it.
    let dead = Self.deadPID()
    let journal = "/run/pvbench/journal-\(dead).jsonl"
    try fake.write(HostPaths.cpuOnline(1), "0\n")
    try fake.write("/sys/devices/system/cpu/online", "0\n")
    try fake.write(
      journal,
      """
      {"kind":"begin","name":"pvbench test","pid":\(dead)}
      {"kind":"write","original":"1","path":"/sys/devices/system/cpu/cpu1/online","value":"0"}

      """)
    let result = try CLI.run(
      ["run", try experiment(), "--results", work.appendingPathComponent("results").path],
      timeout: 120)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stderr.contains(
        "box: restored 1 change left by a dead agent (\(journal)), read back\n"),
      "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let manifest = try JSONDecoder().decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: run + "/manifest.json")))
    #expect(
      manifest.hosts.first { $0.name == "box" }?.recovered == [
        RecoveryRecord(journal: journal, undone: 1, restored: true, problems: [])
      ])
    #expect(manifest.hosts.first { $0.name == "noisy" }?.recovered == [])
    #expect(run.hasPrefix(work.appendingPathComponent("results/e2e/").path))
    for name in ["manifest.json", "experiment.yaml", "experiment.json"] {
      #expect(FileManager.default.fileExists(atPath: run + "/" + name), "\(name)")
    }
    let cells = try cells(in: run)
    #expect(cells.count == 2)
    for (summary, intervals) in cells {
      #expect(summary.status == .complete, "\(summary.reasons)")
      // As the measured host resolved it (here the experiment sets 2).
      #expect(summary.workersPerMessageThread == 2)
      #expect(intervals.count >= 4)
      for file in ["events.jsonl", "samples.csv"] {
        #expect(FileManager.default.fileExists(atPath: "\(run)/cells/\(summary.id)/\(file)"))
      }
      // The noise host's CPUs are busy in busy intervals and much less so in idle ones.
      let busy = intervals.filter { $0.phase == .busy }.compactMap(\.noiseBusyPercent)
      let idle = intervals.filter { $0.phase == .idle }.compactMap(\.noiseBusyPercent)
      #expect(!busy.isEmpty && !idle.isEmpty)
      let busyMean = busy.reduce(0, +) / Double(max(1, busy.count))
      let idleMean = idle.reduce(0, +) / Double(max(1, idle.count))
      #expect(busyMean > 80, "busy phases: \(busy)")
      #expect(busyMean > idleMean + 25, "busy \(busy) idle \(idle)")
    }
    // The cpuset mode followed the noise: applied in busy intervals, not in idle ones.
    let cpuset = try #require(cells.first { $0.summary.modeID == "cpuset" })
    let busyApplied = cpuset.intervals.filter { $0.phase == .busy }.map(\.modeApplied)
    let idleApplied = cpuset.intervals.filter { $0.phase == .idle }.map(\.modeApplied)
    #expect(!busyApplied.contains(false), "\(busyApplied)")
    #expect(!idleApplied.contains(true), "\(idleApplied)")
    // The fake kernel tree is exactly as it was: every change was undone.
    #expect(changes(before, state()) == [])
  }

  /// The pid of a process that has ended: a `/bin/true` child, run and reaped.
  static func deadPID() -> Int32 {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/bin/true")
    try? probe.run()
    probe.waitUntilExit()
    return probe.processIdentifier
  }

  @Test func sigintRestoresKeepsPartialCellAndResumeCompletes() throws {
    defer {
      fake.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let before = state()
    let file = try experiment(repeat: 2)
    let results = work.appendingPathComponent("results").path
    let running = try RunningCLI(["run", file, "--results", results])
    // Interrupt in the middle of the second cell (cpuset), once its folder exists.
    let started = Date()
    while Date().timeIntervalSince(started) < 90 {
      let runs = (try? FileManager.default.contentsOfDirectory(atPath: results + "/e2e")) ?? []
      let cells = runs.flatMap {
        (try? FileManager.default.contentsOfDirectory(atPath: "\(results)/e2e/\($0)/cells")) ?? []
      }
      if cells.count >= 2 { break }
      Thread.sleep(forTimeInterval: 0.2)
    }
    Thread.sleep(forTimeInterval: 4)
    running.signal(SIGINT)
    let interrupted = running.wait(timeout: 60)
    #expect(interrupted.status == 130, "\(interrupted.stderr)")
    let run = interrupted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(interrupted.stderr.contains("Resume with:\n  pvbench run \(file) --resume \(run)"))
    #expect(changes(before, state()) == [], "the interrupted run left the fake host changed")
    let partial = try cells(in: run)
    #expect(partial.contains { $0.summary.status == .partial })
    #expect(partial.filter { $0.summary.status == .complete }.count >= 1)

    let resumed = try CLI.run(["run", file, "--resume", run], timeout: 180)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let all = try cells(in: run)
    #expect(all.count == 4)
    #expect(changes(before, state()) == [])
    #expect(
      all.map(\.summary.status) == Array(repeating: .complete, count: 4),
      "\(all.map(\.summary.reasons))")
  }
}

extension RunEngineTests {
  @Test func anAgentThatDiesFailsItsCellAndTheRunGoesOn() throws {
    defer {
      fake.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let before = state()
    let file = try experiment()
    let results = work.appendingPathComponent("results").path
    let running = try RunningCLI(["run", file, "--results", results])
    // Once the first cell runs, kill the noise host's agent (the second one started).
    var killed = false
    let started = Date()
    while !killed && Date().timeIntervalSince(started) < 60 {
      let runs = (try? FileManager.default.contentsOfDirectory(atPath: results + "/e2e")) ?? []
      if !runs.isEmpty {
        Thread.sleep(forTimeInterval: 3)
        let agents = try CLI.shell(
          "pgrep -P \(running.process.processIdentifier) -f 'agent --stdio'"
        )
        .split(separator: "\n").compactMap { Int32($0) }.sorted()
        if agents.count == 2 {
          kill(agents[1], SIGKILL)
          killed = true
        }
      }
      Thread.sleep(forTimeInterval: 0.2)
    }
    #expect(killed)
    let result = running.wait(timeout: 120)
    // A failed cell makes the run exit 1, after running the next cell.
    #expect(result.status == 1, "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let cells = try cells(in: run)
    let statuses = Dictionary(uniqueKeysWithValues: cells.map { ($0.summary.modeID, $0.summary) })
    #expect(statuses["out-of-box"]?.status == .failed)
    #expect(
      statuses["out-of-box"]?.reasons.first?.hasPrefix("noisy: the agent went away") == true,
      "\(statuses["out-of-box"]?.reasons ?? [])")
    #expect(statuses["cpuset"]?.status == .complete, "\(statuses["cpuset"]?.reasons ?? [])")
    #expect(result.stderr.contains("--resume \(run)"))
    #expect(changes(before, state()) == [])
  }
}

/// `pvbench doctor FILE` checks every host of an experiment with the modes it asks for.
@Suite(.serialized) struct DoctorFileTests {
  @Test func aModeTheKernelLacksMakesTheExperimentUnfit() throws {
    let fake = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    defer { fake.remove() }
    let file = fake.root + "-doctor.yaml"
    defer { try? FileManager.default.removeItem(atPath: file) }
    try """
    name: doctor
    hosts:
      box: { local: { root: \(fake.root) }, entitled: 1 }
      noisy: { local: {} }
    measure: { host: box }
    noise: { host: noisy, stress: { busy: 5s, idle: 5s } }
    modes:
      - cpuset: { cpus: non-entitled }
      - paravirt: { cpus: non-entitled }
    """.write(toFile: file, atomically: true, encoding: .utf8)
    let result = try CLI.run(["doctor", file], timeout: 60)
    #expect(result.status == 4, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("box (local)\n"))
    #expect(result.stdout.contains("noisy (local)\n"))
    #expect(result.stdout.contains("  mode cpuset       supported (avoids 1)\n"))
    #expect(
      result.stdout.contains(
        "  mode paravirt     no: box: mode paravirt needs /sys/devices/system/cpu/paravirt;"))
    #expect(
      result.stdout.hasSuffix("verdict: doctor cannot run as it is; see the problems above\n"))

    // A run checks the same before the first cell, and changes nothing.
    let before = fake.snapshot()
    let run = try CLI.run(["run", file, "--results", fake.root + "-results"], timeout: 60)
    defer { try? FileManager.default.removeItem(atPath: fake.root + "-results") }
    #expect(run.status == 4, "\(run.stderr)")
    #expect(
      run.stderr.contains("pvbench run: a host cannot run this experiment; nothing was changed.\n"))
    #expect(run.stderr.contains("needs /sys/devices/system/cpu/paravirt"))
    #expect(fake.snapshot() == before)
  }
}

extension RunEngineTests {
  /// Pids whose parent is `parent` (from /proc/PID/stat).
  static func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
      guard let pid = Int32(entry),
        let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return nil }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      return fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
    }
  }

  /// True while `pid` exists and is not a zombie.
  static func alive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
  }

  @Test(.enabled(if: Executables.find("stress-ng") != nil, "needs stress-ng"))
  func aRunKilledWithSIGKILLLeavesNoProcessAndKeepsItsIntervals() throws {
    defer {
      fake.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let before = state()
    let file = try experiment(engine: "stress-ng")
    let results = work.appendingPathComponent("results").path
    let running = try RunningCLI(["run", file, "--results", results])
    let runPID = running.process.processIdentifier
    // Wait (at most 90 s) until the second cell has streamed two intervals, with the first
    // cell ended; then note every process the run started, and SIGKILL the run.
    var descendants: [Int32] = []
    var streamed: (cell: String, lines: Int)?
    let started = Date()
    while streamed == nil && Date().timeIntervalSince(started) < 90 {
      Thread.sleep(forTimeInterval: 0.2)
      let runs = (try? FileManager.default.contentsOfDirectory(atPath: results + "/e2e")) ?? []
      guard let run = runs.first else { continue }
      let cellsFolder = "\(results)/e2e/\(run)/cells"
      let cells = ((try? FileManager.default.contentsOfDirectory(atPath: cellsFolder)) ?? [])
        .sorted()
      guard cells.count == 2,
        FileManager.default.fileExists(atPath: "\(cellsFolder)/\(cells[0])/cell.json"),
        let text = try? String(
          contentsOfFile: "\(cellsFolder)/\(cells[1])/intervals.jsonl", encoding: .utf8)
      else { continue }
      let lines = text.split(separator: "\n").count
      if lines >= 2 {
        let agents = Self.children(of: runPID)
        descendants = agents + agents.flatMap { Self.children(of: $0) }
        kill(runPID, SIGKILL)
        streamed = (cells[1], lines)
      }
    }
    let killed = running.wait(timeout: 30)
    #expect(killed.status == SIGKILL || running.process.terminationReason == .uncaughtSignal)
    let (cell, lines) = try #require(streamed, "the second cell never streamed two intervals")
    // Two agents and the noise host's stress-ng at least.
    #expect(descendants.count >= 3, "\(descendants)")
    var left = descendants.filter(Self.alive)
    for _ in 0..<100 where !left.isEmpty {
      Thread.sleep(forTimeInterval: 0.1)
      left = descendants.filter(Self.alive)
    }
    #expect(left.isEmpty, "still running 10 s after the SIGKILL: \(left)")
    // The agents restored the fake host when the kernel signalled them.
    #expect(changes(before, state()) == [])
    let run = try #require(
      try FileManager.default.contentsOfDirectory(atPath: results + "/e2e").first)
    let runFolder = "\(results)/e2e/\(run)"
    let kept = try String(
      contentsOfFile: "\(runFolder)/cells/\(cell)/intervals.jsonl", encoding: .utf8)
    #expect(kept.split(separator: "\n").count >= lines)
    #expect(!FileManager.default.fileExists(atPath: "\(runFolder)/cells/\(cell)/cell.json"))

    // --resume runs the killed cell again (keeping the killed attempt) and no complete cell.
    let firstCell = try #require(
      try FileManager.default.contentsOfDirectory(atPath: runFolder + "/cells").sorted().first)
    let firstSummary = try Data(
      contentsOf: URL(fileURLWithPath: "\(runFolder)/cells/\(firstCell)/cell.json"))
    let firstComplete =
      (try? JSONDecoder().decode(CellSummary.self, from: firstSummary))?.status == .complete
    let resumed = try CLI.run(["run", file, "--resume", runFolder], timeout: 180)
    #expect(resumed.stderr.contains("\(cell)"), "\(resumed.stderr)")
    if firstComplete {
      #expect(!resumed.stderr.contains("\(firstCell) "), "\(resumed.stderr)")
      #expect(
        try Data(contentsOf: URL(fileURLWithPath: "\(runFolder)/cells/\(firstCell)/cell.json"))
          == firstSummary)
    }
    let attempt = try String(
      contentsOfFile: "\(runFolder)/attempts/\(cell)-1/intervals.jsonl", encoding: .utf8)
    #expect(attempt.split(separator: "\n").count >= lines)
    #expect(FileManager.default.fileExists(atPath: "\(runFolder)/cells/\(cell)/cell.json"))
    #expect(changes(before, state()) == [])
  }
}

extension RunEngineTests {
  /// The governor, acting through a cpuset on a 4-core fake host with 1 entitled core, while
  /// the fake /proc/stat shows 50 % steal: it folds one core per interval, in place.
  @Test func theGovernorFoldsOneCoreAtATimeWithoutRestoring() throws {
    let host = try FakeHostTree(cores: 4, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    defer {
      host.remove()
      fake.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let experiment = LocalExperiment(
      name: "governor", root: host.root, busy: "3s", idle: "3s",
      modes: [
        "governor: { signal: steal, interval: 1s, high: 5%, low: 2%, step: core, apply: cpuset }"
      ])
    // Half of every CPU's ticks are steal, rewritten (atomically) 10 times a second for at
    // most 60 s.
    let events = try experiment.runWhile(in: work) { stop in
      var ticks: UInt64 = 1000
      for _ in 0..<600 where !stop.isSet {
        ticks += 10
        var text = "cpu  \(ticks * 4) 0 0 \(ticks * 4) 0 0 0 \(ticks * 4) 0 0\n"
        for cpu in 0..<4 { text += "cpu\(cpu) \(ticks) 0 0 \(ticks) 0 0 0 \(ticks) 0 0\n" }
        try? Data((text + "intr 0\nctxt 0\n").utf8).write(
          to: URL(fileURLWithPath: host.root + "/proc/stat"), options: .atomic)
        Thread.sleep(forTimeInterval: 0.1)
      }
    }.events
    for event in events
    where [.governor, .modeApply, .modeRestore, .evacuated].contains(event.kind) {
      print(
        "governor timeline: \(event.timeNanoseconds / 1_000_000) ms \(event.kind.rawValue) \(event.detail) \(event.milliseconds.map { String(format: "%.1f ms", $0) } ?? "")"
      )
    }
    let wanted: [EventKind] = [.governor, .modeApply, .modeRestore]
    let steps: [EventRecord] = events.filter { wanted.contains($0.kind) }
    let governor: [String] = steps.filter { $0.kind == .governor }.map { $0.detail }
    // The driver's rules: the fake /proc/stat adds about 100 steal ticks (1 s) a second on
    // each of 4 CPUs, a ratio near 10000, far above 500: each interval folds the last
    // preferred core, down to the first housekeeping core, 0.
    let decisions: [String] = events.filter { $0.kind == .governor }.prefix(3).map {
      "\($0.governor?.action ?? "?") \($0.governor?.moved ?? "?") -> \($0.governor?.preferred ?? "?")"
    }
    let expectedDecisions: [String] = ["fold 3 -> 0-2", "fold 2 -> 0-1", "fold 1 -> 0"]
    #expect(decisions == expectedDecisions, "\(governor)")
    #expect(
      events.filter { $0.kind == .governor }.prefix(3).allSatisfy {
        ($0.governor?.ratio ?? 0) > 500
      })
    // The start names the input: the fake kernel accounts steal, so its own /proc/stat.
    let start = events.first { $0.kind == .governorStep }
    #expect(start?.governor?.action == "start", "\(String(describing: start))")
    #expect(start?.governor?.input == "guest /proc/stat")
    let applies: [String] = steps.filter { $0.kind == .modeApply }.map { $0.detail }
    let expectedApplies: [String] = [
      "governor: avoids CPUs 3", "governor: avoids CPUs 2-3 (step: +2)",
      "governor: avoids CPUs 1-3 (step: +1)",
    ]
    #expect(Array(applies.prefix(3)) == expectedApplies, "\(applies)")
    // No restore between the steps: the only one, if any, ends the cell.
    let kinds: [EventKind] = steps.map { $0.kind }
    let restores: [Int] = kinds.indices.filter { kinds[$0] == .modeRestore }
    #expect(restores.allSatisfy { $0 == kinds.count - 1 }, "\(kinds)")
    // Governor events and the applies they caused are on the same clock, in order.
    let decided: [UInt64] = steps.filter { $0.kind == .governor }.map { $0.timeNanoseconds }
    let applied: [UInt64] = steps.filter { $0.kind == .modeApply }.map { $0.timeNanoseconds }
    for (decision, apply) in zip(decided, applied) {
      #expect(decision <= apply && apply - decision < 5_000_000_000, "\(decided) \(applied)")
    }
  }
}
