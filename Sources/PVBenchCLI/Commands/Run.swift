import AgentProtocol
import ArgumentParser
import Controller
import Experiments
import Foundation
import LinuxHost
import Report
import Results
import Vocabulary

extension PVBench {
  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run an experiment: drive every host through the schedule, measure, restore.",
      discussion: """
        Writes results/<experiment>/<run-id>/ (see docs/results-format.md) and prints that \
        folder on standard output when the run ends; progress goes to standard error. \
        Ctrl-C stops the current cell, restores every host, keeps what was measured as a \
        partial cell and prints the command that resumes the run (exit code 130). \
        --resume RUN_DIR runs only the cells that are missing, invalid, failed or partial. \
        --shard K/N runs the K-th of N shards of the plan (whole point and repetition \
        groups with every mode; the cell ids are the plan's), --testbed NAME on the \
        testbed of that name in --testbeds FILE (or the file's testbeds section); \
        'pvbench merge' joins the shards \
        (docs/shards.md).
        """
    )

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Option(help: "Resume this run folder: run only what is missing, invalid or failed.")
    var resume: String?

    @Option(help: "The folder that holds results/<experiment>/<run-id>.")
    var results = "results"

    @Option(
      help: "Run only the K-th of N shards of the plan, written 'K/N'.",
      transform: { text in
        guard let shard = Shard(parsing: text) else {
          throw ValidationError(
            "K/N needs 1 <= K <= N, e.g. 2/3 for the second of three shards.")
        }
        return shard
      })
    var shard: Shard?

    @Option(help: "A testbeds file: each host's address on each testbed.")
    var testbeds: String?

    @Option(
      help: """
        Run on this testbed of --testbeds (or of the file's testbeds section): its hosts' \
        addresses replace the file's.
        """)
    var testbed: String?

    @Option(
      help: "Write the run into this folder (new or empty) instead of results/<experiment>/<id>.")
    var runFolder: String?

    @Flag(help: "Print only errors and the run folder.")
    var quiet = false

    @Flag(help: "Print every event.")
    var verbose = false

    @Flag(
      help:
        "On a terminal, draw the running cell's p99 and steal above the progress lines, each second."
    )
    var live = false

    func validate() throws {
      if quiet && verbose { throw ValidationError("'--quiet' and '--verbose' exclude each other.") }
      if testbeds != nil && testbed == nil {
        throw ValidationError("'--testbeds' needs '--testbed NAME': the testbed to run on.")
      }
      if resume != nil && runFolder != nil {
        throw ValidationError(
          "'--run-folder' names a new run; '--resume' already names its folder.")
      }
    }

    func run() async throws {
      let loaded = try loadExperiment(file)
      // The experiment as written (its hash, the resolved copy), and as it runs on the testbed.
      let planned = ExperimentPlan(loaded)
      let bed = try testbed.map { try loadTestbed(testbeds, named: $0, plan: planned) }
      let progress = RunProgress(verbosity: quiet ? .quiet : verbose ? .verbose : .normal)
      var prepared = try PreparedRun.prepare(
        PreparedRun.Request(
          planned: planned, testbed: bed, shard: shard, resume: resume, runFolder: runFolder,
          resultsRoot: results, commandLine: CommandLine.arguments))
      let store = prepared.store
      let cells = prepared.cellsToRun
      if let resume {
        progress.note(
          "resuming \(resume): \(cells.count) of \(prepared.ownCells.count) cells to run")
      }
      let plan = prepared.plan
      progress.note(
        "\(plan.experiment.name): \(cells.count) cells, about "
          + "\(PlanPrinter.duration(plan.setupSeconds + cells.reduce(0) { $0 + $1.estimatedSeconds }))"
          + " -> \(store.runDirectory.path)")

      let liveView = live ? Self.startLiveView(store: store, progress: progress) : nil
      defer { liveView?.cancel() }

      let interrupt = InterruptFlag()
      interrupt.install { name, count in
        progress.note(
          count == 1
            ? "\(name): stopping the cell and restoring every host (this takes a few seconds)"
            : "\(name) again: still restoring the hosts; pvbench exits when they are restored")
      }
      let outcome: RunController.Outcome
      do {
        outcome = try await prepared.run(progress: progress, interrupt: interrupt)
      } catch let error as PreflightError {
        throw error
      } catch is InterruptedError {
        print(store.runDirectory.path)
        throw CommandFailure(
          .interrupted,
          "pvbench run: interrupted before the first cell; every host was restored. Resume with:\n  "
            + resumeCommand(store: store))
      } catch {
        throw CommandFailure(
          .runtimeFailure,
          "pvbench run: \(error)\nResume with: \(resumeCommand(store: store))")
      }

      switch outcome {
      case .finished(let complete, let invalid, let failed):
        progress.note(
          "done: \(complete) complete, \(invalid) invalid, \(failed) failed -> "
            + store.runDirectory.path)
        print(store.runDirectory.path)
        if invalid + failed > 0 {
          progress.note(
            "run again the cells that did not complete with: "
              + resumeCommand(store: store))
        }
        // The cells' failures were reported as they happened.
        if failed > 0 { throw CommandFailure(.runtimeFailure) }
      case .interrupted:
        print(store.runDirectory.path)
        throw CommandFailure(
          .interrupted,
          "pvbench run: interrupted; every host was restored. Resume with:\n  "
            + resumeCommand(store: store))
      case .stoppedAfterFailures(let count):
        print(store.runDirectory.path)
        throw CommandFailure(
          .runtimeFailure,
          "pvbench run: stopped after \(count) failed cells in a row; see the reasons above. "
            + "Resume with: \(resumeCommand(store: store))")
      }
    }

    func resumeCommand(store: ResultsStore) -> String {
      var flags = ""
      if let shard { flags += " --shard \(shard)" }
      if let testbeds { flags += " --testbeds \(testbeds)" }
      if let testbed { flags += " --testbed \(testbed)" }
      return "pvbench run \(file)\(flags) --resume \(store.runDirectory.path)"
    }
  }
}

extension PVBench.Run {
  /// Redraws the running cell's plot above the progress lines each second, from the run
  /// folder (the picture `pvbench watch` draws); nil off a terminal.
  static func startLiveView(store: ResultsStore, progress: RunProgress) -> Task<Void, Never>? {
    guard progress.live else {
      progress.note("--live draws on a terminal only; the progress lines follow as usual")
      return nil
    }
    let run = store.runDirectory
    let view = LiveView()
    return Task.detached {
      while !Task.isCancelled {
        if let cell = LiveView.currentCell(in: run) {
          progress.setPanel(view.render(cell: cell).split(separator: "\n").map(String.init))
        }
        try? await Task.sleep(for: .seconds(1))
      }
    }
  }
}
