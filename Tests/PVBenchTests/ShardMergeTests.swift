import Controller
import Experiments
import Foundation
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// Shards, testbeds and merge without Slurm: plan arithmetic, testbeds files checked
/// like experiment files, and real shard runs of `local` hosts on fake kernel trees
/// (nothing on this machine changes), one killed and resumed, merged into one run.
@Suite(.serialized) struct ShardMergeTests {
  let work: URL

  init() throws {
    work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
      "pvbench-shards-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  /// An experiment of one `local` measure host on `root`, two modes, `repetitions`
  /// repetitions and no noise (nothing burns this shared machine's CPUs).
  static func experimentText(root: String, repetitions: Int, runtime: String = "2s") -> String {
    """
    name: shards
    hosts:
      box: { local: { root: \(root) }, entitled: 1 }
    measure:
      host: box
      schbench: { message_threads: 1, workers: 2, runtime: \(runtime), interval: 1s, cache_footprint: 4K, operations: 1 }
    modes:
      - out-of-box
      - cpuset: { cpus: non-entitled }
    trigger: static
    repeat: \(repetitions)
    report: { phase: all }

    """
  }

  func write(_ text: String, _ name: String) throws -> String {
    let path = work.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func plan(_ path: String) throws -> ExperimentPlan {
    ExperimentPlan(try ExperimentLoader.load(path: path) { HostPaths(root: $0).presentCPUs() })
  }

  // MARK: Plan arithmetic

  @Test func shardsDealWholeGroupsInTurnWithThePlansIDs() throws {
    defer { try? FileManager.default.removeItem(at: work) }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    defer { tree.remove() }
    let plan = try plan(write(Self.experimentText(root: tree.root, repetitions: 3), "e.yaml"))
    #expect(plan.groups.count == 3)
    let one = plan.cells(of: Shard(index: 1, count: 2))
    let two = plan.cells(of: Shard(index: 2, count: 2))
    // Groups 1 and 3 to shard 1, group 2 to shard 2; each with both modes, in plan order.
    #expect(one.map(\.repetition) == [1, 1, 3, 3])
    #expect(two.map(\.repetition) == [2, 2])
    #expect(one.map(\.modeID) == ["out-of-box", "cpuset", "out-of-box", "cpuset"])
    #expect(Set(one.map(\.id) + two.map(\.id)) == Set(plan.cells.map(\.id)))
    #expect(one.count + two.count == plan.cells.count)
    #expect(Shard(parsing: "2/3") == Shard(index: 2, count: 3))
    for bad in ["0/2", "3/2", "1", "a/b", "1/0", "/2", "1/2/3"] {
      #expect(Shard(parsing: bad) == nil, "\(bad)")
    }
  }

  @Test func theExperimentHashIgnoresTestbedAddressesButNotTheExperiment() throws {
    defer { try? FileManager.default.removeItem(at: work) }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    defer { tree.remove() }
    let plan = try plan(write(Self.experimentText(root: tree.root, repetitions: 2), "e.yaml"))
    let moved = plan.on(
      Testbed(name: "tb2", addresses: [.init(host: "box", address: "/elsewhere")]))
    #expect(moved.experimentHash == plan.experimentHash)
    #expect(moved.experiment.host(named: "box")?.transport == .local(root: "/elsewhere"))
    #expect(moved.cells == plan.cells)
    let longer = try self.plan(
      write(Self.experimentText(root: tree.root, repetitions: 2, runtime: "3s"), "f.yaml"))
    #expect(longer.experimentHash != plan.experimentHash)
  }

  // MARK: Testbeds files

  @Test func aTestbedsFileIsCheckedWithFileLineAndColumn() throws {
    defer { try? FileManager.default.removeItem(at: work) }
    let experiment = try write(
      """
      name: tb
      hosts:
        lpar1: { ssh: { host: lpar1.example.com }, entitled: 1 }
        lpar2: { ssh: { host: lpar2.example.com } }
        guest: { qemu: { vcpus: 2, memory: 256M } }
      measure: { host: lpar1, schbench: { runtime: 2s } }
      noise: { host: lpar2, stress: { busy: 5s, idle: 5s } }
      modes: [out-of-box]

      """, "tb.yaml")
    let testbeds = try write(
      """
      testbeds:
        tb1: { lpar1: lpar1-a, lpar2: lpar2-a }
        tb2: { lpar1: lpar1-a, lpr2: lpar2-b, guest: g }
        tb 3: { lpar1: x, lpar2: y }
      extra: 1

      """, "testbeds.yaml")
    let result = try CLI.run(["plan", experiment, "--testbeds", testbeds])
    #expect(result.status == 2)
    #expect(
      result.stderr == """
        \(testbeds):3:8: error: testbeds.tb2: missing host 'lpar2': every ssh host of the experiment needs its address on each testbed
        \(testbeds):3:17: error: testbeds.tb2.lpar1: testbed 'tb1' already gives 'lpar1' the address 'lpar1-a'; two testbeds must not share a host
        \(testbeds):3:26: error: testbeds.tb2: the experiment has no host 'lpr2' (did you mean 'lpar2'?); its hosts are 'lpar1', 'lpar2', 'guest'
        \(testbeds):3:41: error: testbeds.tb2: 'guest' is a qemu guest: it boots on the machine that runs the shard and takes no address; leave it out
        \(testbeds):4:3: error: testbeds: a testbed name takes letters, digits, '-' and '_' only (it names a Slurm license and a folder), got 'tb 3'
        \(testbeds):5:1: error: unknown key 'extra'

        """)
    let good = try write(
      "testbeds:\n  tb1: { lpar1: lpar1-a, lpar2: lpar2-a }\n  tb2: { lpar1: lpar1-b, lpar2: lpar2-b }\n",
      "good.yaml")
    let planned = try CLI.run(["plan", experiment, "--testbeds", good])
    #expect(planned.status == 0, "\(planned.stderr)")
    #expect(
      planned.stdout.hasSuffix(
        """

        Testbeds (\(good)): tb1, tb2; the plan has 1 (point, repetition) group to shard.
          tb1: lpar1 at lpar1-a, lpar2 at lpar2-a
          tb2: lpar1 at lpar1-b, lpar2 at lpar2-b

        """), "\(planned.stdout)")
    // Two shards of one group: refused before anything runs.
    let run = try CLI.run(
      ["run", experiment, "--shard", "2/2", "--testbeds", good, "--testbed", "tb2"])
    #expect(run.status == 2)
    #expect(
      run.stderr
        == "pvbench run: '--shard 2/2': the plan has 1 (point, repetition) group and a shard "
        + "holds whole groups, so use at most 1 shard\n")
    // The shipped example checks against the shipped experiment.
    let shipped = try CLI.run([
      "plan", "experiments/cover-letter.yaml", "--testbeds",
      "experiments/cover-letter-testbeds.yaml",
    ])
    #expect(shipped.status == 0, "\(shipped.stderr)")
    #expect(
      shipped.stdout.contains(
        "  p10b: lpar1 at lpar1.p10b.example.com, lpar2 at lpar2.p10b.example.com\n"))
    let badShard = try CLI.run(["run", experiment, "--shard", "3/2"])
    #expect(badShard.status == 2)
    #expect(
      badShard.stderr.hasPrefix(
        "Error: The value '3/2' is invalid for '--shard <shard>': K/N needs 1 <= K <= N, e.g. "
          + "2/3 for the second of three shards.\n"), "\(badShard.stderr)")
    let unknown = try CLI.run(
      ["run", experiment, "--shard", "1/1", "--testbeds", good, "--testbed", "tb9"])
    #expect(unknown.status == 2)
    #expect(
      unknown.stderr == "pvbench: \(good) has no testbed 'tb9'; its testbeds are 'tb1', 'tb2'\n")
  }

  @Test func anExperimentFileMayCarryItsOwnTestbedsSection() throws {
    defer { try? FileManager.default.removeItem(at: work) }
    let text = Self.sshExperiment(
      "section",
      tail: """
        repeat: 2
        testbeds:
          tb1: { lpar1: lpar1-a }
          tb2: { lpar1: lpar1-b }

        """)
    let file = try write(text, "section.yaml")
    let planned = try CLI.run(["plan", file])
    #expect(planned.status == 0, "\(planned.stderr)")
    #expect(planned.stdout.contains("\nTestbeds (\(file)): tb1, tb2; the plan has 2"))
    let dry = try CLI.run(["submit", file, "--dry-run", "--results", work.path, "--pvbench", "/p"])
    #expect(dry.status == 0, "\(dry.stderr)")
    #expect(dry.stdout.contains("--shard \"$shard/2\" --testbed tb2 \"${where[@]}\"\n"))
    #expect(!dry.stdout.contains("--testbeds"))
    // Checked with the file: a wrong host in the section is the file's error, exit 2.
    let broken = try write(
      text.replacingOccurrences(of: "tb2: { lpar1: lpar1-b }", with: "tb2: { lpar9: lpar1-b }"),
      "broken.yaml")
    let refused = try CLI.run(["plan", broken])
    #expect(refused.status == 2)
    #expect(
      refused.stderr
        == "\(broken):10:8: error: testbeds.tb2: missing host 'lpar1': every ssh host of the "
        + "experiment needs its address on each testbed\n"
        + "\(broken):10:10: error: testbeds.tb2: the experiment has no host 'lpar9' (did you "
        + "mean 'lpar1'?); its hosts are 'lpar1'\n")
    let none = try CLI.run(["run", try write(Self.noTestbeds, "none.yaml"), "--testbed", "tb1"])
    #expect(none.status == 2)
    #expect(
      none.stderr
        == "pvbench: \(work.path)/none.yaml has no 'testbeds' section; give a testbeds file with "
        + "--testbeds FILE (docs/shards.md)\n")
  }

  static let noTestbeds = sshExperiment("none", entitled: false)

  /// An experiment of one `ssh` host, `lpar1`, measured for 2 s in `out-of-box` only;
  /// `tail` holds the lines after `trigger: static`, each ending in a newline.
  static func sshExperiment(_ name: String, entitled: Bool = true, tail: String = "") -> String {
    let entitlement = entitled ? ", entitled: 1" : ""
    return """
      name: \(name)
      hosts:
        lpar1: { ssh: { host: lpar1.example.com }\(entitlement) }
      measure: { host: lpar1, schbench: { runtime: 2s } }
      modes: [out-of-box]
      trigger: static

      """ + tail
  }

  // MARK: Shards, a killed one, merge

  /// Reads every cell folder of a run: id → status (nil for an unfinished cell).
  static func cellStates(_ run: String) throws -> [String: CellStatus?] {
    let store = try RunStore.load(from: URL(fileURLWithPath: run), intervals: false)
    return Dictionary(uniqueKeysWithValues: store.cells.map { ($0.id, $0.summary?.status) })
  }

  @Test func aKilledShardIsListedByMergeAndFinishedByResume() throws {
    defer { try? FileManager.default.removeItem(at: work) }
    let first = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    let second = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    defer {
      first.remove()
      second.remove()
    }
    let before = second.snapshot().filter { !$0.key.contains("/run") }
    let file = try write(Self.experimentText(root: first.root, repetitions: 2), "e.yaml")
    let testbeds = try write(
      "testbeds:\n  tb1: { box: \(first.root) }\n  tb2: { box: \(second.root) }\n", "tb.yaml")
    let plan = try plan(file)
    let shard1 = work.appendingPathComponent("s1").path
    let shard2 = work.appendingPathComponent("s2").path

    let one = try CLI.run(
      [
        "run", file, "--shard", "1/2", "--testbeds", testbeds, "--testbed", "tb1",
        "--run-folder", shard1, "--quiet",
      ], timeout: 120)
    #expect(one.status == 0, "\(one.stderr)")
    #expect(one.stdout == shard1 + "\n")

    // Shard 2 is killed (SIGKILL: no restore by the controller, no summary) once its first
    // cell has ended.
    let running = try RunningCLI([
      "run", file, "--shard", "2/2", "--testbeds", testbeds, "--testbed", "tb2",
      "--run-folder", shard2, "--quiet",
    ])
    let started = Date()
    while Date().timeIntervalSince(started) < 90,
      ((try? Self.cellStates(shard2)) ?? [:]).values.compactMap({ $0 }).isEmpty
    {
      Thread.sleep(forTimeInterval: 0.2)
    }
    running.signal(SIGKILL)
    _ = running.wait(timeout: 30)
    let killedStates = try Self.cellStates(shard2)
    #expect(killedStates.values.compactMap { $0 } == [.complete])

    let manifest1 = try RunStore.load(from: URL(fileURLWithPath: shard1)).manifest
    #expect(
      manifest1.shard
        == ShardRecord(index: 1, count: 2, testbed: "tb1", planCells: plan.cells.map(\.id)))
    #expect(manifest1.plannedCells == plan.cells(of: Shard(index: 1, count: 2)).map(\.id))
    #expect(manifest1.experimentHash == plan.experimentHash)
    #expect(manifest1.hosts.map(\.testbed) == ["tb1"])

    let partial = work.appendingPathComponent("merged-partial").path
    let merge = try CLI.run(["merge", partial, shard1, shard2])
    #expect(merge.status == 0, "\(merge.stderr)")
    #expect(merge.stdout == partial + "\n")
    let shard2Cells = plan.cells(of: Shard(index: 2, count: 2))
    let missing = shard2Cells.filter { killedStates[$0.id] != .some(.complete) }
    #expect(missing.count == 1)
    var expected = """
      shard 1/2 on tb1: 2 of 2 cells complete (\(shard1))
      shard 2/2 on tb2: 1 of 2 cells complete (\(shard2))
      merged: 1 of 4 cells are missing or did not complete:

      """
    for cell in missing {
      let started = FileManager.default.fileExists(atPath: "\(shard2)/cells/\(cell.id)")
      let state = started ? "unfinished" : "not run"
      expected += "  \(cell.id)  \(state), shard 2/2 on tb2 (\(shard2))\n"
    }
    expected +=
      "resume: pvbench run \(shard2)/experiment.yaml --shard 2/2 --testbeds TESTBEDS.yaml "
      + "--testbed tb2 --resume \(shard2)\n"
    #expect(merge.stderr == expected)

    // Resuming on the wrong testbed is refused; on its own it runs what is missing.
    let wrong = try CLI.run(
      [
        "run", file, "--shard", "2/2", "--testbeds", testbeds, "--testbed", "tb1", "--resume",
        shard2,
      ])
    #expect(wrong.status == 2)
    #expect(
      wrong.stderr.contains("\(shard2) ran on testbed 'tb2'; resume it there"), "\(wrong.stderr)")
    let resumed = try CLI.run(
      [
        "run", file, "--shard", "2/2", "--testbeds", testbeds, "--testbed", "tb2",
        "--resume", shard2,
      ], timeout: 120)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stderr.contains("resuming \(shard2): 1 of 2 cells to run"), "\(resumed.stderr)")

    let out = work.appendingPathComponent("merged").path
    let full = try CLI.run(["merge", out, shard2, shard1])
    #expect(full.status == 0, "\(full.stderr)")
    #expect(
      full.stderr == """
        shard 1/2 on tb1: 2 of 2 cells complete (\(shard1))
        shard 2/2 on tb2: 2 of 2 cells complete (\(shard2))
        merged: all 4 cells of the plan are complete

        """)
    let merged = try RunStore.load(from: URL(fileURLWithPath: out))
    #expect(merged.manifest.plannedCells == plan.cells.map(\.id))
    #expect(merged.cells.map(\.id) == plan.cells.map(\.id))
    #expect(merged.cells.allSatisfy { $0.summary?.status == .complete })
    #expect(merged.manifest.shard == nil)
    #expect(merged.manifest.merged?.map(\.testbed) == ["tb1", "tb2"])
    var testbedOf: [String: String] = [:]
    for cell in plan.cells(of: Shard(index: 1, count: 2)) { testbedOf[cell.id] = "tb1" }
    for cell in shard2Cells { testbedOf[cell.id] = "tb2" }
    #expect(merged.manifest.cellTestbeds == testbedOf)
    // The same fake host on both testbeds: the header names it once.
    #expect(merged.manifest.hosts.map(\.name) == ["box"])
    #expect(merged.manifest.hosts.first?.testbed == nil)
    // The killed attempt is kept, as a resume keeps it.
    #expect(FileManager.default.fileExists(atPath: out + "/attempts"))

    let report = try CLI.run(["report", out, "--no-plots", "--by", "testbed"], timeout: 120)
    #expect(report.status == 0, "\(report.stderr)")
    let table = report.stdout.components(separatedBy: "Wakeup latency (µs) by testbed").last ?? ""
    let rows = table.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(
      rows.first { $0.first == "mode" } == [
        "mode", "testbed", "cells", "50.0th", "90.0th", "99.0th", "99.9th",
      ], "\(table)")
    // One row per mode and testbed: two groups, one per shard and testbed.
    for testbed in ["tb1", "tb2"] {
      let mine = rows.filter { $0.contains(testbed) }
      #expect(mine.count == 2, "\(table)")
      for row in mine {
        let at = row.firstIndex(of: testbed)!
        #expect(row[at + 1] == "1", "\(table)")
        // Figures, not '-': every interval of the static cells is in the report phase.
        #expect(row[(at + 2)...].allSatisfy { Double($0) != nil }, "\(table)")
        #expect(row.count == at + 6, "\(table)")
      }
    }
    #expect(FileManager.default.fileExists(atPath: out + "/report/testbeds.txt"))
    // The killed agent's host was restored: the tree is as before (its journal aside).
    #expect(second.snapshot().filter { !$0.key.contains("/run") } == before)

    // Overlap and another experiment are refused with exit code 2.
    let copy = work.appendingPathComponent("s1-again").path
    try FileManager.default.copyItem(atPath: shard1, toPath: copy)
    let overlap = try CLI.run(["merge", work.appendingPathComponent("o").path, shard1, copy])
    #expect(overlap.status == 2)
    let firstShard1 = plan.cells(of: Shard(index: 1, count: 2))[0].id
    #expect(
      overlap.stderr
        == "pvbench merge: \(shard1) (shard 1/2) and \(copy) (shard 1/2) both hold cell "
        + "\(firstShard1) and 1 more cells; give each shard once (a shard run again belongs "
        + "in its first folder, with --resume)\n")
    var other = try RunStore.load(from: URL(fileURLWithPath: copy)).manifest
    other.experimentHash = "0123456789abcdef"
    try ResultsStore.open(copy).writeManifest(other)
    let foreign = try CLI.run(["merge", work.appendingPathComponent("f").path, shard2, copy])
    #expect(foreign.status == 2)
    #expect(
      foreign.stderr
        == "pvbench merge: \(copy) ran another experiment than \(shard2) (experiment hash "
        + "0123456789abcdef, not \(plan.experimentHash)); merge only the shards of one plan\n")
    let again = try CLI.run(["merge", out, shard1])
    #expect(again.status == 2)
    #expect(
      again.stderr
        == "pvbench merge: \(out) already holds a run; merge into a new folder (or remove the old merge)\n"
    )
  }
}

/// The parts of merge and submit that need no run: host records, scripts, Slurm's lines.
@Suite struct MergeAndSlurmRecordsTests {
  static func host(_ name: String, kernel: String, testbed: String) -> HostRecord {
    var record = bare(name, kernel: kernel)
    record.testbed = testbed
    return record
  }

  static func bare(_ name: String, kernel: String) -> HostRecord {
    HostRecord(
      name: name, role: "measure", transport: "ssh", kernelRelease: kernel, kernelCmdline: "",
      cpusPresent: "0-3", cpusOnline: "0-3", cores: 4, threadsPerCore: 1, entitled: 2,
      interfaces: [], stealAccounting: true, recovered: [])
  }

  @Test func aHostIsNamedOnceUnlessItDiffersBetweenTestbeds() {
    let a1 = Self.host("lpar1", kernel: "6.18", testbed: "tb1")
    let a2 = Self.host("lpar1", kernel: "6.18", testbed: "tb2")
    let b1 = Self.host("lpar2", kernel: "6.18", testbed: "tb1")
    let b2 = Self.host("lpar2", kernel: "6.19-rc1", testbed: "tb2")
    let b3 = Self.host("lpar2", kernel: "6.18", testbed: "tb3")
    let merged = RunMerge.distinct([a1, b1, a2, b2, b3])
    #expect(merged.map(\.name) == ["lpar1", "lpar2", "lpar2"])
    #expect(merged.map(\.testbed) == [nil, "tb1,tb3", "tb2"])
    #expect(merged.map(\.kernelRelease) == ["6.18", "6.18", "6.19-rc1"])
    #expect(merged.allSatisfy { $0.recovered == nil })
  }

  @Test func squeueAndSacctLinesAreParsed() {
    let lines = "12_1|RUNNING\n12_3|PENDING\n13|CANCELLED by 0\n\nbad line\n"
    let parsed = SlurmJobs.parse(lines)
    #expect(parsed.map(\.0) == ["12_1", "12_3", "13"])
    #expect(parsed.map(\.1) == ["RUNNING", "PENDING", "CANCELLED"])
  }
}

extension MergeAndSlurmRecordsTests {
  @Test func shardsAreDealtToTestbedsAndEachTestbedIsOneLicensedArray() throws {
    let file = NSTemporaryDirectory() + "pvbench-submit-\(UUID().uuidString).yaml"
    defer { try? FileManager.default.removeItem(atPath: file) }
    try ShardMergeTests.sshExperiment("dealt", tail: "repeat: 3\n").write(
      toFile: file, atomically: true, encoding: .utf8)
    let plan = ExperimentPlan(
      try ExperimentLoader.load(path: file) { HostPaths(root: $0).presentCPUs() })
    let submission = SlurmSubmission(
      plan: plan, testbeds: ["tb1", "tb2", "tb3"], shardCount: 3, folder: "/r/dealt/1",
      binding: .license, partition: "lab", pvbench: "/opt/pv bench", createdAt: "now")
    #expect(submission.shards.map(\.testbed) == ["tb1", "tb2", "tb3"])
    let two = SlurmSubmission(
      plan: plan, testbeds: ["tb1", "tb2"], shardCount: 3, folder: "/r/dealt/1",
      binding: .feature, partition: nil, pvbench: "/opt/pv bench", createdAt: "now")
    #expect(two.shards.map(\.testbed) == ["tb1", "tb2", "tb1"])
    let script = two.arrayScript(testbed: "tb1")
    #expect(script.contains("#SBATCH --array=1,3\n"))
    #expect(script.contains("#SBATCH --constraint=tb1\n"))
    #expect(!script.contains("--partition"))
    // A path with a space is one shell word.
    #expect(
      script.contains(
        "exec '/opt/pv bench' run /r/dealt/1/slurm/experiment.yaml --shard \"$shard/3\""))
    let licensed = submission.arrayScript(testbed: "tb2")
    #expect(
      licensed.contains("#SBATCH --array=2\n#SBATCH --licenses=tb2:1\n#SBATCH --partition=lab\n"))
    #expect(submission.mergeScript.contains("'/opt/pv bench' merge /r/dealt/1 \"${runs[@]}\"\n"))
  }
}
