import Experiments
import Foundation
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// `pvbench submit` against a real one-node Slurm started on this machine
/// (`SlurmCluster`): two shards of `local` hosts on fake kernel trees, one testbed each,
/// then the merge-and-report job; the merged run is compared with the same plan run on
/// one machine.
@Suite(.serialized) struct SlurmSubmitTests {
  static let skipReason: Comment =
    "Slurm is not installed (munged, slurmctld, slurmd, sbatch); scripts/install-deps --tests installs munge and slurm-wlm"

  /// The report text without what differs between any two runs: the lines before the
  /// first host (the run's id, dates and command line, wrapped) and every number
  /// (timings and latencies).
  static func masked(_ report: String) -> [String] {
    let lines = report.split(separator: "\n", omittingEmptySubsequences: false)
    var kept: [Substring] = []
    var inVerdicts = false
    for line in lines.drop(while: { !$0.hasPrefix("host ") }) {
      // Which mode won is itself a measurement: with overlapping intervals it may name
      // either mode from one run to the next. Its title stays; its sentences are masked.
      if line.hasPrefix("Which mode won") {
        inVerdicts = true
        kept.append(line)
        continue
      }
      if inVerdicts {
        if line.isEmpty { inVerdicts = false } else { continue }
      }
      kept.append(line)
    }
    return kept.map { line in
      line.replacingOccurrences(of: "[0-9]+(\\.[0-9]+)?", with: "#", options: .regularExpression)
        .replacingOccurrences(of: " +", with: " ", options: .regularExpression)
    }
  }

  @Test(.enabled(if: SlurmCluster.installed, skipReason))
  func submitRunsEachShardOnItsTestbedAndMergesThem() throws {
    let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
      "pvbench-submit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    let first = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    let second = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false)
    defer {
      first.remove()
      second.remove()
      try? FileManager.default.removeItem(at: work)
    }
    let file = work.appendingPathComponent("e.yaml").path
    try ShardMergeTests.experimentText(root: first.root, repetitions: 2).write(
      toFile: file, atomically: true, encoding: .utf8)
    let testbeds = work.appendingPathComponent("testbeds.yaml").path
    try "testbeds:\n  tb1: { box: \(first.root) }\n  tb2: { box: \(second.root) }\n".write(
      toFile: testbeds, atomically: true, encoding: .utf8)
    let plan = ExperimentPlan(
      try ExperimentLoader.load(path: file) { HostPaths(root: $0).presentCPUs() })
    let results = work.appendingPathComponent("results").path

    let cluster = try SlurmCluster(licenses: ["tb1", "tb2"])
    defer { cluster.stop() }

    let dry = try CLI.run(
      ["submit", file, "--testbeds", testbeds, "--results", results, "--dry-run"],
      environment: cluster.environment)
    #expect(dry.status == 0, "\(dry.stderr)")
    for line in [
      "#SBATCH --array=1", "#SBATCH --array=2", "#SBATCH --licenses=tb1:1",
      "#SBATCH --licenses=tb2:1", "--shard \"$shard/2\"",
      "sbatch --parsable --dependency=afterany:$JOB_tb1:$JOB_tb2 ",
    ] {
      #expect(dry.stdout.contains(line), "\(line)\n\(dry.stdout)")
    }
    #expect(!FileManager.default.fileExists(atPath: results), "a dry run writes nothing")

    let submitted = try CLI.run(
      ["submit", file, "--testbeds", testbeds, "--results", results],
      environment: cluster.environment)
    #expect(submitted.status == 0, "\(submitted.stderr)\n\(cluster.log())")
    let folder = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    guard submitted.status == 0 else { return }

    // Each shard's task holds its testbed's license (Slurm's view, not the script's).
    let squeue = try #require(SlurmCluster.find("squeue"))
    let licenses = ChildProcess.run(
      squeue, ["-h", "-r", "-t", "all", "-o", "%i %W"], environment: cluster.environment,
      timeout: 30
    ).stdout.split(separator: "\n").map(String.init).sorted()
    #expect(licenses.count == 3, "\(licenses)")
    #expect(licenses.contains { $0.hasSuffix("_1 tb1:1") }, "\(licenses)")
    #expect(licenses.contains { $0.hasSuffix("_2 tb2:1") }, "\(licenses)")

    // The shards (about 15 s each) and the merge: bounded at 5 minutes.
    var status = try CLI.run(["status", folder], environment: cluster.environment)
    let deadline = Date().addingTimeInterval(300)
    while Date() < deadline {
      status = try CLI.run(["status", folder], environment: cluster.environment)
      let merge = status.stdout.split(separator: "\n").last { $0.hasPrefix("merge") } ?? ""
      if !merge.contains("PENDING") && !merge.contains("RUNNING")
        && !merge.contains("COMPLETING") && !merge.contains("CONFIGURING")
        && (merge.contains("COMPLETED") || merge.contains("FAILED") || merge.contains("ended"))
      {
        break
      }
      Thread.sleep(forTimeInterval: 2)
    }
    let lines = status.stdout.split(separator: "\n").map {
      $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    }
    // Every job completed, each shard on its own testbed, all cells.
    #expect(lines.count == 5, "\(status.stdout)")
    if lines.count == 5 {
      #expect(lines[1] == ["shard", "testbed", "job", "state", "cells"])
      #expect(Array(lines[2].prefix(2)) == ["1/2", "tb1"])
      #expect(Array(lines[3].prefix(2)) == ["2/2", "tb2"])
      #expect(lines[2].suffix(3) == ["COMPLETED", "2/2", "complete"], "\(status.stdout)")
      #expect(lines[3].suffix(3) == ["COMPLETED", "2/2", "complete"], "\(status.stdout)")
      #expect(lines[4].first == "merge")
      #expect(lines[4].suffix(3) == ["COMPLETED", "4/4", "merged"], "\(status.stdout)")
    }
    let mergeLog =
      (try? String(contentsOfFile: folder + "/slurm/logs/merge.out", encoding: .utf8)) ?? ""
    #expect(mergeLog.contains("merged: all 4 cells of the plan are complete"), "\(mergeLog)")
    #expect(mergeLog.contains("Wakeup latency (µs) by testbed"), "\(mergeLog)")

    // Every cell of the plan exactly once, each with the testbed of its shard.
    let merged = try RunStore.load(from: URL(fileURLWithPath: folder))
    #expect(merged.manifest.plannedCells == plan.cells.map(\.id))
    let folders = try FileManager.default.contentsOfDirectory(atPath: folder + "/cells").sorted()
    #expect(folders == plan.cells.map(\.id).sorted())
    #expect(merged.cells.allSatisfy { $0.summary?.status == .complete })
    var testbedOf: [String: String] = [:]
    for cell in plan.cells(of: Shard(index: 1, count: 2)) { testbedOf[cell.id] = "tb1" }
    for cell in plan.cells(of: Shard(index: 2, count: 2)) { testbedOf[cell.id] = "tb2" }
    #expect(merged.manifest.cellTestbeds == testbedOf)
    for (index, testbed) in ["tb1", "tb2"].enumerated() {
      let shard = try RunStore.load(from: URL(fileURLWithPath: folder + "/shards/\(index + 1)"))
      #expect(shard.manifest.shard?.testbed == testbed)
    }

    // The same plan on one machine: the same report but for timings.
    let single = try CLI.run(
      ["run", file, "--results", work.appendingPathComponent("single").path, "--quiet"],
      timeout: 180)
    #expect(single.status == 0, "\(single.stderr)")
    let singleRun = single.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let one = try CLI.run(["report", singleRun, "--no-plots"], timeout: 120)
    let joined = try CLI.run(["report", folder, "--no-plots"], timeout: 120)
    #expect(one.status == 0 && joined.status == 0, "\(one.stderr)\(joined.stderr)")
    let report = Self.masked(joined.stdout)
    #expect(report.count > 40, "\(joined.stdout)")
    #expect(report == Self.masked(one.stdout), "\(joined.stdout)\n---\n\(one.stdout)")
  }
}
