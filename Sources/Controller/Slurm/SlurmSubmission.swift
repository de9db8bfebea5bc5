import Experiments
import Foundation
import Results

/// How each shard's job is tied to its testbed, so two shards never share one.
package enum TestbedBinding: String, Sendable, Codable, CaseIterable {
  /// `--licenses=<testbed>:1`: the cluster defines one license per testbed
  /// (`Licenses=tb1:1,tb2:1` in slurm.conf).
  case license
  /// `--constraint=<testbed>`: each testbed is driven from nodes with that feature.
  case feature
}

/// What `pvbench submit` hands to Slurm for one plan: one job array per testbed (its
/// shards, held to the testbed by a license or a node feature) and a merge-and-report
/// job that waits for every array with `afterany`.
///
/// Slurm's job options apply to a whole array, so the testbed binding cannot differ
/// between the tasks of one array: shards are dealt to testbeds in turn (shard K to
/// testbed (K-1) mod T) and each testbed's shards form one array, whose tasks take the
/// testbed's license one after another.
package struct SlurmSubmission: Sendable, Codable, Equatable {
  package struct ShardJob: Sendable, Codable, Equatable {
    package var index: Int
    package var testbed: String
    /// The shard's run folder.
    package var folder: String
    /// The array job's id once submitted; the shard is task `index` of it.
    package var jobID: String?

    package var taskID: String? { jobID.map { "\($0)_\(index)" } }
  }

  package var experiment: String
  package var experimentHash: String
  /// The submission folder: scripts under `slurm/`, shards under `shards/K`; the merged
  /// run is written into it.
  package var folder: String
  package var shardCount: Int
  package var testbeds: [String]
  package var binding: TestbedBinding
  package var partition: String?
  package var pvbench: String
  package var shards: [ShardJob]
  package var mergeJobID: String?
  package var createdAt: String
  /// Whether the testbeds come from a testbeds file (copied beside the experiment) rather
  /// than the experiment file's own section.
  package var testbedsFile: Bool

  package static let fileName = RunLayout.submissionName

  package var experimentCopy: String { folder + "/slurm/" + RunLayout.experimentFileName }
  package var testbedsCopy: String { folder + "/slurm/testbeds.yaml" }

  /// Shards dealt to testbeds in turn.
  package init(
    plan: ExperimentPlan, testbeds: [String], shardCount: Int, folder: String,
    binding: TestbedBinding, partition: String?, pvbench: String, createdAt: String,
    testbedsFile: Bool = true
  ) {
    experiment = plan.experiment.name
    experimentHash = plan.experimentHash
    self.folder = folder
    self.shardCount = shardCount
    self.testbeds = testbeds
    self.binding = binding
    self.partition = partition
    self.pvbench = pvbench
    shards = (1...shardCount).map {
      ShardJob(
        index: $0, testbed: testbeds[($0 - 1) % testbeds.count], folder: folder + "/shards/\($0)")
    }
    mergeJobID = nil
    self.createdAt = createdAt
    self.testbedsFile = testbedsFile
  }

  /// Testbeds that have at least one shard, in file order.
  package var usedTestbeds: [String] {
    testbeds.filter { testbed in shards.contains { $0.testbed == testbed } }
  }

  // MARK: Scripts

  /// The batch script of `testbed`'s job array.
  package func arrayScript(testbed: String) -> String {
    let indices = shards.filter { $0.testbed == testbed }.map { "\($0.index)" }
    var lines = [
      "#!/bin/bash",
      "# pvbench submit: the shards of \(experiment) on testbed \(testbed).",
      "#SBATCH --job-name=\(Self.quoted("pvbench-\(experiment)-\(testbed)"))",
      "#SBATCH --array=\(indices.joined(separator: ","))",
    ]
    switch binding {
    case .license: lines.append("#SBATCH --licenses=\(testbed):1")
    case .feature: lines.append("#SBATCH --constraint=\(testbed)")
    }
    if let partition { lines.append("#SBATCH --partition=\(partition)") }
    lines += [
      "#SBATCH --nodes=1",
      "#SBATCH --ntasks=1",
      "#SBATCH --chdir=\(Self.quoted(folder))",
      "#SBATCH --output=\(Self.quoted(folder + "/slurm/logs/shard-%a.out"))",
      "set -euo pipefail",
      "shard=\"$SLURM_ARRAY_TASK_ID\"",
      "folder=\(Self.quoted(folder + "/shards"))/\"$shard\"",
      "# A requeued or restarted shard resumes its own folder.",
      "if [ -f \"$folder/\(RunLayout.manifestName)\" ]; then where=(--resume \"$folder\"); "
        + "else where=(--run-folder \"$folder\"); fi",
      "exec \(Self.quoted(pvbench)) run \(Self.quoted(experimentCopy)) "
        + "--shard \"$shard/\(shardCount)\" "
        + (testbedsFile ? "--testbeds \(Self.quoted(testbedsCopy)) " : "")
        + "--testbed \(Self.quoted(testbed)) \"${where[@]}\"",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The merge-and-report job: merges the shards that started into the submission
  /// folder (listing the cells that did not complete), then writes the report.
  package var mergeScript: String {
    var lines = [
      "#!/bin/bash",
      "# pvbench submit: merge the shards of \(experiment) and report; runs after every",
      "# shard ended (--dependency=afterany:…, given on the sbatch command line).",
      "#SBATCH --job-name=\(Self.quoted("pvbench-\(experiment)-merge"))",
    ]
    if let partition { lines.append("#SBATCH --partition=\(partition)") }
    lines += [
      "#SBATCH --nodes=1",
      "#SBATCH --ntasks=1",
      "#SBATCH --chdir=\(Self.quoted(folder))",
      "#SBATCH --output=\(Self.quoted(folder + "/slurm/logs/merge.out"))",
      "set -euo pipefail",
      "runs=()",
      "for shard in $(seq 1 \(shardCount)); do",
      "  folder=\(Self.quoted(folder + "/shards"))/\"$shard\"",
      "  if [ -f \"$folder/\(RunLayout.manifestName)\" ]; then runs+=(\"$folder\"); "
        + "else echo \"shard $shard never started\" >&2; fi",
      "done",
      "if [ ${#runs[@]} -eq 0 ]; then echo 'no shard started; nothing to merge' >&2; exit 1; fi",
      "\(Self.quoted(pvbench)) merge \(Self.quoted(folder)) \"${runs[@]}\"",
      "exec \(Self.quoted(pvbench)) report \(Self.quoted(folder)) --by testbed",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  package func arrayScriptPath(testbed: String) -> String {
    folder + "/slurm/shards-\(testbed).sbatch"
  }

  package var mergeScriptPath: String { folder + "/slurm/merge.sbatch" }

  /// `text` as one shell word.
  package static func quoted(_ text: String) -> String {
    if !text.isEmpty,
      text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-:%+=@".contains($0)) })
    {
      return text
    }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}
