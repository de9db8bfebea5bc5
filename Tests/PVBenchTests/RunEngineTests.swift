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

  func experiment(repeat repetitions: Int = 1) throws -> String {
    let path = work.appendingPathComponent("e2e.yaml").path
    try """
    name: e2e
    hosts:
      box: { local: { root: \(fake.root) }, entitled: 1 }
      noisy: { local: {} }
    measure:
      host: box
      schbench: { message_threads: 1, workers: 2, runtime: 7s, interval: 1s, cache_footprint: 4K, operations: 1 }
    noise:
      host: noisy
      stress: { busy: 2500ms, idle: 2500ms, workers: 2, engine: builtin }
    modes:
      - out-of-box
      - cpuset: { cpus: non-entitled }
    settle: 300ms
    repeat: \(repetitions)
    """.write(toFile: path, atomically: true, encoding: .utf8)
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
    let result = try CLI.run(
      ["run", try experiment(), "--results", work.appendingPathComponent("results").path],
      timeout: 120)
    #expect(result.status == 0, "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(run.hasPrefix(work.appendingPathComponent("results/e2e/").path))
    for name in ["manifest.json", "experiment.yaml", "experiment.json"] {
      #expect(FileManager.default.fileExists(atPath: run + "/" + name), "\(name)")
    }
    let cells = try cells(in: run)
    #expect(cells.count == 2)
    for (summary, intervals) in cells {
      #expect(summary.status == .complete, "\(summary.reasons)")
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
