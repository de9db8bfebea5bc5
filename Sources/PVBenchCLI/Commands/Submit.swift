import ArgumentParser
import Controller
import Experiments
import Foundation
import LinuxHost
import Results

extension TestbedBinding: ExpressibleByArgument {}

extension PVBench {
  struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "submit",
      abstract: "Run the shards of a plan as Slurm jobs, one testbed each, then merge.",
      discussion: """
        Prepares results/<experiment>/<id>/ with copies of the experiment and testbeds \
        files, one sbatch job array per testbed (its shards; --bind license asks for the \
        license named after the testbed, so two shards never share one) and a \
        merge-and-report job that waits for every array (afterany), then submits them \
        and prints the folder. The merged run and its report are written into that \
        folder; 'pvbench status' shows the progress. --dry-run prints the scripts and \
        the sbatch commands and submits nothing (docs/shards.md).
        """
    )

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Option(
      help: """
        The testbeds file: each host's address on each testbed (default: the experiment \
        file's testbeds section).
        """)
    var testbeds: String?

    @Option(help: "Shards of the plan (default: one per testbed).")
    var shards: Int?

    @Option(help: "The Slurm partition of every job.")
    var partition: String?

    @Option(help: "How a shard holds its testbed: license or feature.")
    var bind: TestbedBinding = .license

    @Option(help: "The folder that holds results/<experiment>/<id>.")
    var results = "results"

    @Option(help: "The pvbench the jobs run (default: this binary; give its path on the nodes).")
    var pvbench: String?

    @Flag(help: "Print the scripts and sbatch commands; submit nothing.")
    var dryRun = false

    func validate() throws {
      if let shards, shards < 1 {
        throw ValidationError("'--shards' must be at least 1, got '\(shards)'.")
      }
    }

    func run() async throws {
      let loaded = try loadExperiment(file)
      let plan = ExperimentPlan(loaded)
      let set = try testbedSet(testbeds, plan: plan)
      let count = shards ?? set.testbeds.count
      let groups = plan.groups.count
      guard count <= groups else {
        throw CommandFailure(
          .invalidInput,
          "pvbench submit: \(count) shards, but the plan has \(groups) (point, repetition) "
            + "group\(groups == 1 ? "" : "s") and a shard holds whole groups; use "
            + "--shards \(groups) or fewer")
      }
      let binary =
        pvbench ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? CommandLine.arguments[0]
      let resultsRoot = URL(fileURLWithPath: results).standardizedFileURL
      let folder: URL
      if dryRun {
        folder = resultsRoot.appendingPathComponent(plan.experiment.name)
          .appendingPathComponent("DRY-RUN")
      } else {
        folder = try ResultsStore.create(
          resultsRoot: resultsRoot, experiment: plan.experiment.name
        ).runDirectory
      }
      var submission = SlurmSubmission(
        plan: plan, testbeds: set.names, shardCount: count, folder: folder.path, binding: bind,
        partition: partition, pvbench: binary, createdAt: Timestamps.iso(Date()),
        testbedsFile: testbeds != nil)
      if dryRun {
        for testbed in submission.usedTestbeds {
          print("# \(submission.arrayScriptPath(testbed: testbed))")
          print(submission.arrayScript(testbed: testbed))
        }
        print("# \(submission.mergeScriptPath)")
        print(submission.mergeScript)
        print("# submitted with:")
        for testbed in submission.usedTestbeds {
          print("sbatch --parsable \(submission.arrayScriptPath(testbed: testbed))")
        }
        let ids = submission.usedTestbeds.map { "$JOB_\($0)" }.joined(separator: ":")
        print("sbatch --parsable --dependency=afterany:\(ids) \(submission.mergeScriptPath)")
        return
      }
      do {
        try write(submission, loaded: loaded)
        var arrayIDs: [String: String] = [:]
        for testbed in submission.usedTestbeds {
          let id = try SlurmJobs.submit(script: submission.arrayScriptPath(testbed: testbed))
          arrayIDs[testbed] = id
          for index in submission.shards.indices where submission.shards[index].testbed == testbed {
            submission.shards[index].jobID = id
          }
          try save(submission)
          printToStandardError("testbed \(testbed): job array \(id)")
        }
        let dependency = submission.usedTestbeds.compactMap { arrayIDs[$0] }.joined(separator: ":")
        submission.mergeJobID = try SlurmJobs.submit(
          script: submission.mergeScriptPath, extra: ["--dependency=afterany:\(dependency)"])
        try save(submission)
        printToStandardError(
          "merge and report: job \(submission.mergeJobID!) after \(dependency); follow it with: "
            + "pvbench status \(folder.path)")
      } catch let error as SlurmError {
        throw CommandFailure(
          .runtimeFailure,
          "pvbench submit: \(error)\npvbench submit: what was prepared is in \(folder.path)")
      } catch {
        throw CommandFailure(
          .runtimeFailure, "pvbench submit: cannot write \(folder.path): \(error)")
      }
      print(folder.path)
    }

    /// The scripts, copies of both files (later edits do not change queued jobs), and
    /// submission.json.
    func write(_ submission: SlurmSubmission, loaded: LoadedExperiment) throws {
      let manager = FileManager.default
      try manager.createDirectory(
        atPath: submission.folder + "/slurm/logs", withIntermediateDirectories: true)
      try manager.createDirectory(
        atPath: submission.folder + "/shards", withIntermediateDirectories: true)
      try loaded.text.write(toFile: submission.experimentCopy, atomically: true, encoding: .utf8)
      if let testbeds { try manager.copyItem(atPath: testbeds, toPath: submission.testbedsCopy) }
      for testbed in submission.usedTestbeds {
        try submission.arrayScript(testbed: testbed).write(
          toFile: submission.arrayScriptPath(testbed: testbed), atomically: true, encoding: .utf8)
      }
      try submission.mergeScript.write(
        toFile: submission.mergeScriptPath, atomically: true, encoding: .utf8)
      try save(submission)
    }

    func save(_ submission: SlurmSubmission) throws {
      try ResultsStore.writeAtomically(
        try ResultsStore.prettyEncoder.encode(submission),
        to: URL(fileURLWithPath: submission.folder).appendingPathComponent(
          SlurmSubmission.fileName))
    }
  }
}
