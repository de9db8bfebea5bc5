import AgentProtocol
import Foundation
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// The kernel's preferred CPUs on the timeline (issue 23, item 2): `/proc/PID/sched`'s push
/// counter, the `preferred` event and `workload-done`'s `sched`, and a `preferred` run on a
/// fake tree whose preferred set the test changes during the cell, as the module would.
@Suite(.serialized) struct PreferredTimelineTests {
  /// A thread's `sched` file as `proc_sched_show_task` prints it (shortened).
  static func schedFile(comm: String, tid: Int, pushes: Int?) -> String {
    var text = "\(comm) (\(tid), #threads: 3)\n"
    text += "-------------------------------------------------------------------\n"
    text += "se.exec_start                                :        123456.789012\n"
    text += "se.nr_migrations                             :                    9\n"
    if let pushes {
      text += "nr_migrations_cpu_non_preferred              :                    \(pushes)\n"
    }
    text += "nr_switches                                  :                   42\n"
    text += "policy                                       :                    0\n"
    return text
  }

  @Test func procSchedReadsTheCountersAndSkipsTheRest() {
    let sched = ProcSched(parsing: Self.schedFile(comm: "schbench-w0", tid: 7, pushes: 12))
    #expect(sched.nonPreferredMigrations == 12)
    #expect(sched.counters["se.nr_migrations"] == 9)
    #expect(sched.counters["nr_switches"] == 42)
    // A fraction is not a counter, nor is the header line.
    #expect(sched.counters["se.exec_start"] == nil)
    #expect(sched.counters.count == 4)
    let off = ProcSched(parsing: Self.schedFile(comm: "schbench-w0", tid: 7, pushes: nil))
    #expect(off.nonPreferredMigrations == nil)
  }

  @Test func schedCountersSumTheThreadsAndSayWhyNone() throws {
    let tree = try FakeHostTree(cores: 1, threadsPerCore: 1)
    defer { tree.remove() }
    try tree.write("/t/1", Self.schedFile(comm: "m", tid: 1, pushes: 5))
    try tree.write("/t/2", Self.schedFile(comm: "w", tid: 2, pushes: 7))
    try tree.write("/t/3", Self.schedFile(comm: "w", tid: 3, pushes: nil))
    try tree.write("/switch", "1\n")
    let counters = WorkloadSchedCounters(
      tids: [41, 42, 43, 44], file: { index, _ in tree.root + "/t/\(index + 1)" },
      switchFile: tree.root + "/switch")
    #expect(
      counters
        == WorkloadSchedCounters(
          threads: 4, read: 3, nonPreferredMigrations: 12, schedstats: true))
    #expect(WorkloadSchedCounters(json: counters.json) == counters)
    #expect(
      counters.json.serialized
        == #"{"nr_migrations_cpu_non_preferred":12,"read":3,"schedstats":1,"threads":4}"#)

    let off = PreferredPushRecord(
      threads: 2, threadsRead: 2, nonPreferredMigrations: nil, schedstats: false)
    #expect(
      off.sentence
        == "no push count: schedstats are off (/proc/sys/kernel/sched_schedstats is 0; "
        + "echo 1 there, or boot with schedstats=enable)")
    let counted = PreferredPushRecord(
      threads: 2, threadsRead: 2, nonPreferredMigrations: 12, schedstats: true)
    #expect(
      counted.sentence
        == "12 pushes off non-preferred CPUs (nr_migrations_cpu_non_preferred, 2 of 2 "
        + "workload threads)")
  }

  @Test func preferredEventRoundTrips() throws {
    let event = PreferredEvent(monotonicNanoseconds: 5, cpus: CPUSet([0, 1, 2, 5]))
    #expect(event.eventLine == #"{"cpus":"0-2,5","event":"preferred","monotonic_ns":5}"#)
    #expect(PreferredEvent(event: try JSON.parse(event.eventLine)) == event)
    #expect(PreferredEvent(event: try JSON.parse(#"{"event":"preferred","cpus":"x"}"#)) == nil)
  }

  /// `preferred` on a fake tree: the module loads (every CPU preferred), then the test
  /// shrinks the set to two CPUs and grows it to three, as the kernel module would; the
  /// events, the cell's push count and the report show it.
  @Test func aPreferredRunPutsTheKernelsSetOnTheTimeline() throws {
    let host = try FakeHostTree(
      cores: 4, threadsPerCore: 1, paravirt: false, cgroup: .v2, stealGovernorModule: true)
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-preferred-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer {
      host.remove()
      try? FileManager.default.removeItem(at: work)
    }
    // The workload's message thread and worker, as the fake kernel finds them
    // (proc/self/task/<n>/sched, in order), and schedstats on.
    try host.write("/proc/self/task/101/sched", Self.schedFile(comm: "m", tid: 101, pushes: 5))
    try host.write("/proc/self/task/102/sched", Self.schedFile(comm: "w", tid: 102, pushes: 7))
    try host.write("/proc/sys/kernel/sched_schedstats", "1\n")
    let experiment = LocalExperiment(
      name: "preferred", root: host.root, runtime: "7s", busy: "2s", idle: "2s",
      modes: ["preferred: { interval: 100ms }"])
    // Once the module has loaded (the file appears), 2 s later the set shrinks to 0-1 and
    // 2 s after that grows to 0-2; bounded to 60 s.
    let path = host.root + HostPaths.preferred
    let local = try experiment.runWhile(in: work) { stop in
      var loadedAt: Date?
      var step = 0
      for _ in 0..<600 where !stop.isSet && step < 2 {
        if loadedAt == nil, FileManager.default.fileExists(atPath: path) { loadedAt = Date() }
        if let loadedAt, Date().timeIntervalSince(loadedAt) >= Double(2 * (step + 1)) {
          try? Data((step == 0 ? "0-1\n" : "0-2\n").utf8).write(
            to: URL(fileURLWithPath: path), options: .atomic)
          step += 1
        }
        Thread.sleep(forTimeInterval: 0.1)
      }
    }
    let (run, cell, events) = (local.folder, local.cell, local.events)
    let preferred = events.filter { $0.kind == .preferred && $0.host == "box" }
    #expect(preferred.map { $0.cpus ?? "?" } == ["0-3", "0-1", "0-2"], "\(events)")
    #expect(preferred.map(\.detail) == ["4 preferred", "2 preferred", "3 preferred"])
    let times = preferred.map(\.timeNanoseconds)
    #expect(times == times.sorted())

    let summary = try JSONDecoder().decode(
      CellSummary.self,
      from: Data(contentsOf: URL(fileURLWithPath: "\(run)/cells/\(cell)/cell.json")))
    #expect(
      summary.preferredPushes
        == PreferredPushRecord(
          threads: 2, threadsRead: 2, nonPreferredMigrations: 12, schedstats: true))

    let report = try CLI.run(["report", run, "--format", "text", "--no-plots"], timeout: 120)
    let lines = report.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let start = try #require(
      lines.firstIndex { $0.hasPrefix("Preferred CPUs over time") }, "\(report.stdout)")
    let table = lines[start...].prefix { !$0.isEmpty }.map(String.init)
    print(table.joined(separator: "\n"))
    #expect(table.allSatisfy { $0.count <= 72 })
    #expect(table[1].split(separator: " ").first == "mode")
    let row = try #require(table.dropFirst(2).first, "\(table)")
    let cells = row.split(separator: " ").map(String.init)
    // mode, set, folds/min, fewest, busy fold, idle fold, pushes.
    #expect(cells.count == 7, "\(row)")
    #expect(cells[1] == "kernel")
    #expect(cells[3] == "2/4")
    #expect(cells[6] == "12")

    // The timeline figure's data: the kernel's set as a step line (4, 2, 3 CPUs of 4).
    _ = try CLI.run(["report", run], timeout: 120)
    let walker = FileManager.default.enumerator(atPath: run)
    var dataFile: String?
    while dataFile == nil, let name = walker?.nextObject() as? String {
      if name.hasSuffix("timeline.dat") { dataFile = run + "/" + name }
    }
    let data = try String(contentsOfFile: try #require(dataFile), encoding: .utf8)
    let block = try #require(data.components(separatedBy: "# kernel: ").dropFirst().first)
    let counts = block.split(separator: "\n").dropFirst().compactMap {
      $0.split(separator: " ").last.map(String.init)
    }
    #expect(counts == ["4", "2", "3", "3"], "\(block)")
  }
}
