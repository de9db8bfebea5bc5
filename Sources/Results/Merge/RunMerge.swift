import Foundation

/// Joins the runs of one plan's shards into one run folder (`pvbench merge`).
///
/// The shards must come from the same experiment (`experimentHash`) and plan, and no
/// cell may be planned by two of them. The merged folder is an ordinary run: its
/// `plannedCells` are the whole plan's, its cells are copies of the shards' cell
/// folders, `cellTestbeds` says where each ran, and `merged` lists the shards. A
/// planned cell that no shard finished as complete is listed in `missing`.
package struct RunMerge: Sendable {
  /// A planned cell without a complete result in the merged run.
  package struct MissingCell: Sendable, Equatable {
    package var id: String
    /// The run that planned it, or nil when no run given plans it.
    package var run: String?
    package var shard: String?
    package var testbed: String?
    /// Its status in that run, or nil when it never ended (or never started).
    package var status: CellStatus?
    /// Whether its folder exists: it started, and ended without a summary when `status`
    /// is nil (the run was killed).
    package var started: Bool

    /// `complete`…`failed`, `unfinished` or `not run`.
    package var state: String {
      status?.rawValue ?? (started ? "unfinished" : "not run")
    }
  }

  package var store: ResultsStore
  package var manifest: RunManifest
  package var missing: [MissingCell]

  /// One input run, read.
  struct Input {
    var path: String
    var store: ResultsStore
    var manifest: RunManifest
    var planCells: [String] { manifest.shard?.planCells ?? manifest.plannedCells }
    var label: String {
      var text = path
      if let shard = manifest.shard { text += " (shard \(shard.index)/\(shard.count))" }
      return text
    }
  }

  /// Merges `runs` into `output`, a new folder (or an existing one without a run in it).
  /// - Throws: `MergeError` (`.input` for runs that cannot be merged, `.io` when the
  ///   merged folder cannot be written). Cells missing from the shards are not an error:
  ///   they are listed in `missing`.
  package static func merge(
    runs paths: [String], into output: URL, commandLine: [String], now: String
  ) throws(MergeError) -> RunMerge {
    guard !paths.isEmpty else { throw MergeError(.input, "give at least one run folder") }
    var inputs: [Input] = []
    for path in paths {
      do {
        let store = try ResultsStore.open(path)
        inputs.append(Input(path: path, store: store, manifest: try store.readManifest()))
      } catch {
        throw MergeError(.input, "\(error)")
      }
    }
    try check(inputs)
    inputs.sort {
      ($0.manifest.shard?.index ?? 0, $0.manifest.startedAt) < (
        $1.manifest.shard?.index ?? 0, $1.manifest.startedAt
      )
    }
    let store = try prepare(output)
    let manager = FileManager.default
    var cellTestbeds: [String: String] = [:]
    var records: [MergedShardRecord] = []
    var hosts: [HostRecord] = []
    var owner: [String: (input: Input, status: CellStatus?)] = [:]
    do {
      for (number, input) in inputs.enumerated() {
        var complete = 0
        for id in input.manifest.plannedCells {
          let source = input.store.cellDirectory(id)
          let summary = input.store.summary(ofCell: id)
          owner[id] = (input, summary?.status)
          guard manager.fileExists(atPath: source.path) else { continue }
          try manager.copyItem(at: source, to: store.cellDirectory(id))
          if summary?.status == .complete { complete += 1 }
          if let testbed = input.manifest.cellTestbeds?[id] ?? input.manifest.shard?.testbed {
            cellTestbeds[id] = testbed
          }
        }
        let attempts = input.store.layout.attempts
        for name in (try? manager.contentsOfDirectory(atPath: attempts.path)) ?? [] {
          let target = store.layout.attempts
          try manager.createDirectory(at: target, withIntermediateDirectories: true)
          try manager.copyItem(
            at: attempts.appendingPathComponent(name), to: target.appendingPathComponent(name))
        }
        // The shard's own manifest and guest console logs, for the record.
        let record = store.layout.mergedFrom(number + 1)
        try manager.createDirectory(at: record, withIntermediateDirectories: true)
        for name in try manager.contentsOfDirectory(atPath: input.store.runDirectory.path)
        where name == RunLayout.manifestName || RunLayout.isConsoleLog(name) {
          try manager.copyItem(
            at: input.store.runDirectory.appendingPathComponent(name),
            to: record.appendingPathComponent(name))
        }
        let testbed = input.manifest.shard?.testbed
        let shardHosts = input.manifest.hosts.map { host in
          var host = host
          host.testbed = host.testbed ?? testbed
          return host
        }
        hosts.append(contentsOf: shardHosts)
        records.append(
          MergedShardRecord(
            path: input.path, runID: input.manifest.runID,
            shard: input.manifest.shard.map { "\($0.index)/\($0.count)" }, testbed: testbed,
            plannedCells: input.manifest.plannedCells.count, completeCells: complete,
            startedAt: input.manifest.startedAt, endedAt: input.manifest.endedAt,
            hosts: shardHosts))
      }
      let first = inputs[0]
      for name in [RunLayout.experimentFileName, RunLayout.resolvedExperimentName] {
        let source = first.store.runDirectory.appendingPathComponent(name)
        if manager.fileExists(atPath: source.path) {
          try manager.copyItem(at: source, to: store.runDirectory.appendingPathComponent(name))
        }
      }
    } catch {
      throw MergeError(.io, "cannot copy into \(output.path): \(error.localizedDescription)")
    }

    var manifest = inputs[0].manifest
    manifest.runID = output.lastPathComponent
    manifest.commandLine = commandLine
    manifest.startedAt = inputs.map(\.manifest.startedAt).min() ?? manifest.startedAt
    manifest.endedAt = now
    manifest.hosts = Self.distinct(hosts)
    manifest.plannedCells = inputs[0].planCells
    manifest.shard = nil
    manifest.cellTestbeds = cellTestbeds.isEmpty ? nil : cellTestbeds
    manifest.merged = records
    do {
      try store.writeManifest(manifest)
    } catch {
      throw MergeError(.io, "\(error)")
    }
    let missing = manifest.plannedCells.compactMap { id -> MissingCell? in
      if store.summary(ofCell: id)?.status == .complete { return nil }
      let from = owner[id]
      return MissingCell(
        id: id, run: from?.input.path,
        shard: from?.input.manifest.shard.map { "\($0.index)/\($0.count)" },
        testbed: from?.input.manifest.shard?.testbed, status: from?.status,
        started: FileManager.default.fileExists(atPath: store.cellDirectory(id).path))
    }
    return RunMerge(store: store, manifest: manifest, missing: missing)
  }

  /// Each host once where every testbed has the same (kernel, topology, interfaces), so
  /// the report's header reads as one run's; a host that differs between testbeds is
  /// kept once per variant, with the testbeds that have it. Each shard's own records
  /// stay in `merged[].hosts`.
  package static func distinct(_ hosts: [HostRecord]) -> [HostRecord] {
    var variants: [(record: HostRecord, testbeds: [String])] = []
    for host in hosts {
      var bare = host
      bare.testbed = nil
      bare.recovered = nil
      if let index = variants.firstIndex(where: { $0.record == bare }) {
        if let testbed = host.testbed { variants[index].testbeds.append(testbed) }
      } else {
        variants.append((bare, host.testbed.map { [$0] } ?? []))
      }
    }
    let perName = Dictionary(grouping: variants, by: \.record.name).mapValues(\.count)
    return variants.map { variant in
      var record = variant.record
      if perName[record.name, default: 0] > 1 {
        record.testbed = variant.testbeds.joined(separator: ",")
      }
      return record
    }
  }

  /// Same experiment, same plan, no cell planned twice.
  static func check(_ inputs: [Input]) throws(MergeError) {
    let first = inputs[0]
    for input in inputs {
      guard let hash = input.manifest.experimentHash else {
        throw MergeError(
          .input,
          "\(input.path) has no experiment hash (it was written by an older pvbench); only "
            + "runs that record one can be merged")
      }
      if hash != first.manifest.experimentHash {
        throw MergeError(
          .input,
          "\(input.path) ran another experiment than \(first.path) (experiment hash \(hash), "
            + "not \(first.manifest.experimentHash ?? "")); merge only the shards of one plan")
      }
      if input.planCells != first.planCells {
        throw MergeError(
          .input,
          "\(input.path) and \(first.path) have the same experiment but plan different cells; "
            + "merge only the shards of one plan")
      }
    }
    var seen: [String: Input] = [:]
    for input in inputs {
      if let earlier = inputs.first(where: {
        $0.store.runDirectory.standardizedFileURL.path
          == input.store.runDirectory.standardizedFileURL.path && $0.path != input.path
      }) {
        throw MergeError(.input, "\(earlier.path) and \(input.path) are the same folder")
      }
      let clashes = input.manifest.plannedCells.filter { seen[$0] != nil }
      if let clash = clashes.first, let other = seen[clash] {
        let more = clashes.count > 1 ? " and \(clashes.count - 1) more cells" : ""
        throw MergeError(
          .input,
          "\(other.label) and \(input.label) both hold cell \(clash)\(more); give each shard "
            + "once (a shard run again belongs in its first folder, with --resume)")
      }
      for id in input.manifest.plannedCells { seen[id] = input }
    }
  }

  /// A new folder, or an existing one with no run in it (the folder `pvbench submit`
  /// prepared, which holds its scripts and the shards' folders).
  static func prepare(_ output: URL) throws(MergeError) -> ResultsStore {
    let manager = FileManager.default
    let layout = RunLayout(output)
    let cells = layout.cells
    if layout.holdsRun || !layout.cellIDs().isEmpty {
      throw MergeError(
        .input,
        "\(output.path) already holds a run; merge into a new folder (or remove the old merge)")
    }
    do {
      try manager.createDirectory(at: cells, withIntermediateDirectories: true)
    } catch {
      throw MergeError(.io, "cannot create \(cells.path): \(error.localizedDescription)")
    }
    return ResultsStore(runDirectory: output)
  }
}
