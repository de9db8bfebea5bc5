import ArgumentParser
import Controller
import Foundation
import LinuxHost
import Results

extension PVBench {
  struct Merge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge",
      abstract: "Join the shards of one plan into one run folder.",
      discussion: """
        Each RUN_DIR is a run of 'pvbench run FILE --shard K/N'. The runs must come from \
        the same experiment (its resolved hash) and plan, and no cell may be in two of \
        them (exit code 2 otherwise). OUT becomes one run of the whole plan: 'pvbench \
        report OUT' reports it, with each cell's testbed in \(RunLayout.manifestName) and \
        'report --by testbed' to compare the testbeds. Cells no shard finished are \
        listed on standard error with the command that resumes their shard; the merge \
        still succeeds. Prints OUT on standard output.
        """
    )

    @Argument(help: "The merged run folder: new, or without a run in it.")
    var output: String

    @Argument(help: "The shards' run folders.")
    var runDirectories: [String]

    func validate() throws {
      if runDirectories.isEmpty {
        throw ValidationError("give at least one run folder after OUT.")
      }
    }

    func run() async throws {
      let merge = try RunMerge.merge(
        runs: runDirectories, into: URL(fileURLWithPath: output),
        commandLine: CommandLine.arguments, now: Timestamps.iso(Date()))
      let planned = merge.manifest.plannedCells.count
      for shard in merge.manifest.merged ?? [] {
        let name = shard.shard.map { "shard \($0)" } ?? "run \(shard.runID)"
        let on = shard.testbed.map { " on \($0)" } ?? ""
        printToStandardError(
          "\(name)\(on): \(shard.completeCells) of \(shard.plannedCells) cells complete "
            + "(\(shard.path))")
      }
      if merge.missing.isEmpty {
        printToStandardError("merged: all \(planned) cells of the plan are complete")
      } else {
        printToStandardError(
          "merged: \(merge.missing.count) of \(planned) cells are missing or did not complete:")
        for cell in merge.missing {
          let state = cell.state
          let from =
            cell.run.map { run in
              "shard \(cell.shard ?? "?")" + (cell.testbed.map { " on \($0)" } ?? "") + " (\(run))"
            } ?? "in none of the runs given"
          printToStandardError("  \(cell.id)  \(state), \(from)")
        }
        var resumed: Set<String> = []
        for cell in merge.missing {
          guard let run = cell.run, resumed.insert(run).inserted else { continue }
          let flags =
            (cell.shard.map { " --shard \($0)" } ?? "")
            + (cell.testbed.map { " --testbeds TESTBEDS.yaml --testbed \($0)" } ?? "")
          printToStandardError(
            "resume: pvbench run \(run)/\(RunLayout.experimentFileName)\(flags) --resume \(run)")
        }
      }
      print(merge.store.runDirectory.path)
    }
  }
}
