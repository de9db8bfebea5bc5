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
      let loaded = try loadExperimentOrExit(file)
      // The experiment as written (its hash, experiment.json), and as it runs on the testbed.
      let planned = ExperimentPlan(loaded)
      let bed = try testbed.map { try loadTestbedOrExit(testbeds, named: $0, plan: planned) }
      let plan = bed.map { planned.on($0) } ?? planned
      let ownCells = try shardCellsOrExit(plan)
      let progress = RunProgress(verbosity: quiet ? .quiet : verbose ? .verbose : .normal)
      let store: ResultsStore
      var manifest: RunManifest
      var cells = ownCells
      do {
        if let resume {
          store = try ResultsStore.open(resume)
          manifest = try store.readManifest()
          guard manifest.experimentName == plan.experiment.name,
            manifest.plannedCells == ownCells.map(\.id),
            manifest.experimentHash.map({ $0 == plan.experimentHash }) ?? true
          else {
            printError(
              "pvbench run: \(resume) holds a run of a different experiment, plan or shard; "
                + "resume with the file and options it was started with: "
                + "pvbench run \(resume)/experiment.yaml\(Self.shardFlags(manifest)) "
                + "--resume \(resume)")
            throw ExitStatus.invalidInput.exitCode
          }
          if manifest.shard?.testbed != bed?.name {
            printError(
              "pvbench run: \(resume) ran on "
                + (manifest.shard?.testbed.map { "testbed '\($0)'" } ?? "no testbed")
                + "; resume it there: pvbench run \(file)\(Self.shardFlags(manifest)) "
                + "--resume \(resume)")
            throw ExitStatus.invalidInput.exitCode
          }
          let remaining = Set(store.cellsToRun(of: ownCells.map(\.id)))
          cells = ownCells.filter { remaining.contains($0.id) }
          progress.note(
            "resuming \(resume): \(cells.count) of \(ownCells.count) cells to run")
        } else {
          store =
            try runFolder.map { try ResultsStore.create(at: URL(fileURLWithPath: $0)) }
            ?? ResultsStore.create(
              resultsRoot: URL(fileURLWithPath: results), experiment: plan.experiment.name)
          manifest = Self.manifest(plan: plan, store: store)
          manifest.plannedCells = ownCells.map(\.id)
          manifest.experimentHash = plan.experimentHash
          // A whole plan on a testbed is its one shard: resume and merge find the testbed.
          if shard != nil || bed != nil {
            manifest.shard = ShardRecord(
              index: shard?.index ?? 1, count: shard?.count ?? 1, testbed: bed?.name,
              planCells: plan.cells.map(\.id))
          }
          if let bed {
            manifest.cellTestbeds = Dictionary(
              uniqueKeysWithValues: ownCells.map { ($0.id, bed.name) })
          }
          try store.write(Data(loaded.text.utf8), named: "experiment.yaml")
          try store.write(
            try ResultsStore.prettyEncoder.encode(planned.experiment), named: "experiment.json")
          try store.writeManifest(manifest)
        }
      } catch let error as StoreError {
        printError("pvbench run: \(error)")
        throw ExitStatus.runtimeFailure.exitCode
      }
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
      let connector = AgentHostConnector(experiment: plan.experiment)
      let controller = RunController(
        plan: plan, store: store, connector: connector, progress: progress,
        interrupt: interrupt, cellsToRun: cells)
      let outcome: RunController.Outcome
      do {
        outcome = try await controller.run(manifest: &manifest)
      } catch let error as PreflightError {
        await controller.closeAll()
        connector.shutdown(consoleFolder: store.runDirectory.path)
        printError("pvbench run: a host cannot run this experiment; nothing was changed.")
        printError(error.report)
        throw ExitStatus.hostUnfit.exitCode
      } catch is InterruptedError {
        await controller.closeAll()
        connector.shutdown(consoleFolder: store.runDirectory.path)
        printError(
          "pvbench run: interrupted before the first cell; every host was restored. Resume with:\n  "
            + resumeCommand(store: store))
        print(store.runDirectory.path)
        throw ExitStatus.interrupted.exitCode
      } catch {
        await controller.closeAll()
        connector.shutdown(consoleFolder: store.runDirectory.path)
        printError("pvbench run: \(error)")
        printError("Resume with: \(resumeCommand(store: store))")
        throw ExitStatus.runtimeFailure.exitCode
      }
      await controller.closeAll()
      connector.shutdown(consoleFolder: store.runDirectory.path)
      manifest.endedAt = Timestamps.iso(Date())
      if let bed {
        for index in manifest.hosts.indices { manifest.hosts[index].testbed = bed.name }
      }
      try? store.writeManifest(manifest)

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
        if failed > 0 { throw ExitStatus.runtimeFailure.exitCode }
      case .interrupted:
        printError(
          "pvbench run: interrupted; every host was restored. Resume with:\n  "
            + resumeCommand(store: store))
        print(store.runDirectory.path)
        throw ExitStatus.interrupted.exitCode
      case .stoppedAfterFailures(let count):
        printError(
          "pvbench run: stopped after \(count) failed cells in a row; see the reasons above. "
            + "Resume with: \(resumeCommand(store: store))")
        print(store.runDirectory.path)
        throw ExitStatus.runtimeFailure.exitCode
      }
    }

    func resumeCommand(store: ResultsStore) -> String {
      var flags = ""
      if let shard { flags += " --shard \(shard)" }
      if let testbeds { flags += " --testbeds \(testbeds)" }
      if let testbed { flags += " --testbed \(testbed)" }
      return "pvbench run \(file)\(flags) --resume \(store.runDirectory.path)"
    }

    static func manifest(plan: ExperimentPlan, store: ResultsStore) -> RunManifest {
      let experiment = plan.experiment
      var schedule = ""
      if let noise = experiment.noise {
        schedule =
          "\(noise.hosts.joined(separator: ", ")) busy \(noise.stress.busy) / "
          + "idle \(noise.stress.idle), "
          + "trigger \(experiment.trigger.rawValue), "
      }
      schedule +=
        "schbench runtime \(experiment.measure.schbench.runtime), "
        + "\(experiment.repetitions) repetition\(experiment.repetitions == 1 ? "" : "s")"
      let expect = experiment.expect.map {
        ExpectRecord(
          table: $0.table, tolerance: $0.tolerance.fraction,
          phase: experiment.report.phase,
          wakeupMicroseconds: $0.wakeupMicroseconds)
      }
      return RunManifest(
        pvbenchVersion: PVBenchVersion.current, experimentName: experiment.name,
        runID: store.runDirectory.lastPathComponent, commandLine: CommandLine.arguments,
        startedAt: Timestamps.iso(Date()), hosts: [],
        modes: experiment.modes.map {
          ModeRecord(
            id: $0.id, kind: $0.kind, label: $0.label,
            hosts: $0.hosts == nil ? nil : experiment.foldHosts(of: $0))
        },
        plannedCells: plan.cells.map(\.id), scheduleDescription: schedule,
        sweepKeys: experiment.sweep.map(\.keyPath), repetitions: experiment.repetitions,
        reportPercentiles: experiment.report.percentiles, expect: expect,
        reportPhase: experiment.report.phase,
        workload: RunController.workloadRecord(experiment),
        environment: environment(experiment))
    }

    /// This machine (the guests' hypervisor), QEMU when the experiment boots guests, and
    /// the pvbench commit.
    static func environment(_ experiment: Experiment) -> EnvironmentRecord {
      let paths = HostPaths(root: "/")
      let usesQEMU = experiment.hosts.contains {
        if case .qemu = $0.transport { return true }
        return false
      }
      var qemuVersion: String?
      if usesQEMU, let qemu = Executables.find("qemu-system-x86_64"),
        let result = try? ChildProcess.collect(qemu, ["--version"], timeout: 10),
        result.status == 0
      {
        qemuVersion = result.stdout.split(separator: "\n").first.map(String.init)
      }
      return EnvironmentRecord(
        pvbenchCommit: PVBenchCommit.current,
        controllerKernel: paths.readTrimmed(
          "/proc/sys/kernel/osrelease") ?? "unknown",
        controllerCPUModel: paths.cpuModel() ?? "unknown", qemuVersion: qemuVersion,
        poolModel: usesQEMU ? experiment.poolModel.rawValue : nil, pool: PoolRecord(experiment))
    }
  }
}

extension PVBench.Run {
  /// The shard's cells (every cell without `--shard`), or a message and exit code 2 when
  /// the shard would be empty.
  func shardCellsOrExit(_ plan: ExperimentPlan) throws -> [Cell] {
    guard let shard else { return plan.cells }
    let groups = plan.groups.count
    guard shard.count <= groups else {
      printError(
        "pvbench run: '--shard \(shard)': the plan has \(groups) (point, repetition) "
          + "group\(groups == 1 ? "" : "s") and a shard holds whole groups, so use at most "
          + "\(groups) shard\(groups == 1 ? "" : "s")")
      throw ExitStatus.invalidInput.exitCode
    }
    return plan.cells(of: shard)
  }

  /// `--shard K/N --testbeds FILE --testbed NAME` as a run was started, for messages.
  static func shardFlags(_ manifest: RunManifest) -> String {
    guard let shard = manifest.shard else { return "" }
    var flags = " --shard \(shard.index)/\(shard.count)"
    if let testbed = shard.testbed { flags += " --testbeds TESTBEDS.yaml --testbed \(testbed)" }
    return flags
  }

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
