import Foundation

/// The folder of one run: `results/<experiment>/<run-id>/` (docs/results-format.md).
///
/// Every file is written to a temporary name and renamed into place, so a reader
/// never sees half a file; a cell's summary is written last, and a cell whose
/// status is `complete` is never written again. A new run never reuses a folder.
package struct ResultsStore: Sendable {
  package let runDirectory: URL

  /// Where each file of the run lives.
  package var layout: RunLayout { RunLayout(runDirectory) }
  package var cellsDirectory: URL { layout.cells }
  package var manifestURL: URL { layout.manifest }

  /// Creates a new, empty run folder under `results/<experiment>/`.
  /// - Throws: `StoreError` when the folder cannot be created.
  package static func create(resultsRoot: URL, experiment: String, now: Date = Date()) throws
    -> ResultsStore
  {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyyMMdd-HHmmss"
    let base = resultsRoot.appendingPathComponent(experiment)
    let stamp = formatter.string(from: now)
    let manager = FileManager.default
    do {
      try manager.createDirectory(at: base, withIntermediateDirectories: true)
    } catch {
      throw StoreError("cannot create \(base.path): \(error.localizedDescription)")
    }
    // createDirectory without intermediates fails if the folder exists: never reuse one.
    for suffix in 0..<100 {
      let name = suffix == 0 ? stamp : "\(stamp)-\(suffix)"
      let url = base.appendingPathComponent(name)
      if (try? manager.createDirectory(at: url, withIntermediateDirectories: false)) != nil {
        try? manager.createDirectory(
          at: RunLayout(url).cells, withIntermediateDirectories: false)
        return ResultsStore(runDirectory: url)
      }
    }
    throw StoreError("cannot find a free run folder name under \(base.path)")
  }

  /// Opens an existing run folder for `--resume`.
  package static func open(_ path: String) throws -> ResultsStore {
    let url = URL(fileURLWithPath: path)
    guard RunLayout(url).holdsRun else {
      throw StoreError(
        "\(path) is not a pvbench run folder (it has no \(RunLayout.manifestName)); give the "
          + "folder 'pvbench run' printed")
    }
    return ResultsStore(runDirectory: url)
  }

  // MARK: Files

  /// Writes `data` to `url` atomically: a temporary file in the same folder, fsync, rename.
  package static func writeAtomically(_ data: Data, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
      ".\(url.lastPathComponent).tmp-\(getpid())")
    guard FileManager.default.createFile(atPath: temporary.path, contents: data) else {
      throw StoreError("cannot write \(temporary.path)")
    }
    let fd = Foundation.open(temporary.path, O_RDONLY)
    if fd >= 0 {
      fsync(fd)
      close(fd)
    }
    if rename(temporary.path, url.path) != 0 {
      let reason = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw StoreError("cannot move \(temporary.path) to \(url.path): \(reason)")
    }
  }

  package static let encoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }()

  package static let prettyEncoder: JSONEncoder = {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return encoder
  }()

  package func writeManifest(_ manifest: RunManifest) throws {
    try Self.writeAtomically(try Self.prettyEncoder.encode(manifest), to: manifestURL)
  }

  package func readManifest() throws -> RunManifest {
    do {
      return try JSONDecoder().decode(RunManifest.self, from: Data(contentsOf: manifestURL))
    } catch {
      throw StoreError("cannot read \(manifestURL.path): \(error)")
    }
  }

  /// Writes the experiment file as given and the experiment as resolved (JSON) beside
  /// the manifest.
  /// - Throws: `StoreError` when either cannot be written.
  package func writeExperiment(asGiven text: Data, resolved: Data) throws {
    try Self.writeAtomically(text, to: layout.experimentFile)
    try Self.writeAtomically(resolved, to: layout.resolvedExperiment)
  }

  // MARK: Cells

  package func cellDirectory(_ id: String) -> URL { layout.cell(id).directory }

  /// The summary of a cell that ended, or nil when it never started or was cut short
  /// before its summary was written.
  package func summary(ofCell id: String) -> CellSummary? {
    let url = layout.cell(id).summary
    guard let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(CellSummary.self, from: data)
  }

  /// Cells `--resume` must run again: never finished, or finished as invalid, failed
  /// or partial. Complete cells are kept as they are.
  package func cellsToRun(of ids: [String]) -> [String] {
    ids.filter { summary(ofCell: $0)?.status != .complete }
  }

  /// Prepares an empty folder for a cell. An earlier attempt (failed, invalid, partial)
  /// is kept under `attempts/` rather than overwritten.
  package func startCell(_ id: String) throws -> CellWriter {
    let directory = cellDirectory(id)
    let manager = FileManager.default
    if manager.fileExists(atPath: directory.path) {
      if summary(ofCell: id)?.status == .complete {
        throw StoreError("cell \(id) is complete and is never rewritten")
      }
      try? manager.createDirectory(at: layout.attempts, withIntermediateDirectories: true)
      var index = 1
      while manager.fileExists(atPath: layout.attempt(of: id, index).path) {
        index += 1
      }
      try manager.moveItem(at: directory, to: layout.attempt(of: id, index))
    }
    try manager.createDirectory(at: directory, withIntermediateDirectories: true)
    return try CellWriter(directory: directory)
  }
}
