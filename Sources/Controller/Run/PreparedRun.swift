import Experiments
import Foundation
import Results

/// A run ready for its first cell: a new run folder with the experiment and its manifest
/// written, or a folder to resume checked against the plan, and the cells still to run.
package struct PreparedRun: Sendable {
  /// What `pvbench run` was asked to do.
  package struct Request: Sendable {
    /// The plan of the experiment file as written (its hash, the resolved copy in the run folder).
    package var planned: ExperimentPlan
    /// The testbed whose addresses replace the file's, if any.
    package var testbed: Testbed?
    /// The shard of the plan to run; nil for all of it.
    package var shard: Shard?
    /// The run folder to resume; nil for a new run.
    package var resume: String?
    /// The folder a new run is written into instead of `results/<experiment>/<id>`.
    package var runFolder: String?
    /// The folder that holds `results/<experiment>/<run-id>`.
    package var resultsRoot: String
    /// The command line, for the manifest.
    package var commandLine: [String]

    /// Memberwise.
    package init(
      planned: ExperimentPlan, testbed: Testbed?, shard: Shard?, resume: String?,
      runFolder: String?, resultsRoot: String, commandLine: [String]
    ) {
      self.planned = planned
      self.testbed = testbed
      self.shard = shard
      self.resume = resume
      self.runFolder = runFolder
      self.resultsRoot = resultsRoot
      self.commandLine = commandLine
    }

    /// The plan as it runs: on the testbed when one is given.
    package var plan: ExperimentPlan { testbed.map { planned.on($0) } ?? planned }
  }

  package let request: Request
  package let store: ResultsStore
  package var manifest: RunManifest
  /// The shard's cells (every cell of the plan without a shard).
  package let ownCells: [Cell]
  /// The cells still to run: all of `ownCells` for a new run; for a resumed one those that
  /// are missing, invalid, failed or partial.
  package let cellsToRun: [Cell]

  /// The plan as it runs.
  package var plan: ExperimentPlan { request.plan }

  /// Checks the shard, then opens the run folder to resume and checks that it holds this
  /// plan, or creates a new run folder and writes the experiment as given and
  /// resolved and the manifest into it (`RunLayout`).
  ///
  /// - Throws: `RunSetupError` when the shard holds no whole group or the folder to resume
  ///   holds another experiment, plan, shard or testbed (nothing is written);
  ///   `StoreError` when the run folder cannot be opened or written.
  package static func prepare(_ request: Request) throws -> PreparedRun {
    let plan = request.plan
    let ownCells = try shardCells(of: plan, shard: request.shard)
    if let resume = request.resume {
      let store = try ResultsStore.open(resume)
      let manifest = try store.readManifest()
      try checkResume(manifest, of: request, ownCells: ownCells)
      let remaining = Set(store.cellsToRun(of: ownCells.map(\.id)))
      return PreparedRun(
        request: request, store: store, manifest: manifest, ownCells: ownCells,
        cellsToRun: ownCells.filter { remaining.contains($0.id) })
    }
    let store =
      try request.runFolder.map { try ResultsStore.create(at: URL(fileURLWithPath: $0)) }
      ?? ResultsStore.create(
        resultsRoot: URL(fileURLWithPath: request.resultsRoot), experiment: plan.experiment.name)
    var manifest = RunManifest(
      newRunOf: plan, runID: store.runDirectory.lastPathComponent,
      commandLine: request.commandLine)
    manifest.plannedCells = ownCells.map(\.id)
    manifest.experimentHash = plan.experimentHash
    let bed = request.testbed
    // A whole plan on a testbed is its one shard: resume and merge find the testbed.
    if request.shard != nil || bed != nil {
      manifest.shard = ShardRecord(
        index: request.shard?.index ?? 1, count: request.shard?.count ?? 1, testbed: bed?.name,
        planCells: plan.cells.map(\.id))
    }
    if let bed {
      manifest.cellTestbeds = Dictionary(uniqueKeysWithValues: ownCells.map { ($0.id, bed.name) })
    }
    try store.writeExperiment(
      asGiven: Data(request.planned.loaded.text.utf8),
      resolved: try ResultsStore.prettyEncoder.encode(request.planned.experiment))
    try store.writeManifest(manifest)
    return PreparedRun(
      request: request, store: store, manifest: manifest, ownCells: ownCells,
      cellsToRun: ownCells)
  }

  /// Runs the cells on every host of the plan, closes every host, and writes the manifest
  /// with the run's end time (and each host's testbed).
  ///
  /// - Returns: How the cells ended.
  /// - Throws: What the run controller throws (`PreflightError`, `InterruptedError`,
  ///   `HostError`, `RunError`, …), after every host was restored and closed.
  package mutating func run(progress: RunProgress, interrupt: InterruptFlag) async throws
    -> RunController.Outcome
  {
    let connector = AgentHostConnector(experiment: plan.experiment)
    let controller = RunController(
      plan: plan, store: store, connector: connector, progress: progress,
      interrupt: interrupt, cellsToRun: cellsToRun)
    let outcome: RunController.Outcome
    do {
      outcome = try await controller.run(manifest: &manifest)
    } catch {
      await controller.closeAll()
      connector.shutdown(consoleFolder: store.runDirectory.path)
      throw error
    }
    await controller.closeAll()
    connector.shutdown(consoleFolder: store.runDirectory.path)
    manifest.endedAt = Timestamps.iso(Date())
    if let bed = request.testbed {
      for index in manifest.hosts.indices { manifest.hosts[index].testbed = bed.name }
    }
    try? store.writeManifest(manifest)
    return outcome
  }

  /// The shard's cells, or every cell without a shard.
  ///
  /// - Throws: `RunSetupError` when the plan has fewer (point, repetition) groups than
  ///   shards, so some shard would be empty.
  static func shardCells(of plan: ExperimentPlan, shard: Shard?) throws -> [Cell] {
    guard let shard else { return plan.cells }
    let groups = plan.groups.count
    guard shard.count <= groups else {
      throw RunSetupError(
        "'--shard \(shard)': the plan has \(groups) (point, repetition) "
          + "group\(groups == 1 ? "" : "s") and a shard holds whole groups, so use at most "
          + "\(groups) shard\(groups == 1 ? "" : "s")")
    }
    return plan.cells(of: shard)
  }

  /// Checks that `manifest`, of the folder to resume, is a run of this experiment, plan,
  /// shard and testbed.
  static func checkResume(_ manifest: RunManifest, of request: Request, ownCells: [Cell]) throws {
    let plan = request.plan
    let resume = request.resume ?? ""
    guard manifest.experimentName == plan.experiment.name,
      manifest.plannedCells == ownCells.map(\.id),
      manifest.experimentHash.map({ $0 == plan.experimentHash }) ?? true
    else {
      throw RunSetupError(
        "\(resume) holds a run of a different experiment, plan or shard; "
          + "resume with the file and options it was started with: "
          + "pvbench run \(resume)/\(RunLayout.experimentFileName)\(shardFlags(manifest)) "
          + "--resume \(resume)")
    }
    if manifest.shard?.testbed != request.testbed?.name {
      throw RunSetupError(
        "\(resume) ran on "
          + (manifest.shard?.testbed.map { "testbed '\($0)'" } ?? "no testbed")
          + "; resume it there: pvbench run \(request.planned.loaded.path)"
          + "\(shardFlags(manifest)) --resume \(resume)")
    }
  }

  /// `--shard K/N --testbeds FILE --testbed NAME` as a run was started, for messages.
  static func shardFlags(_ manifest: RunManifest) -> String {
    guard let shard = manifest.shard else { return "" }
    var flags = " --shard \(shard.index)/\(shard.count)"
    if let testbed = shard.testbed { flags += " --testbeds TESTBEDS.yaml --testbed \(testbed)" }
    return flags
  }
}
