import Foundation
import Vocabulary

/// A run folder `results/<experiment>/<run-id>/` read into memory.
public struct RunStore: Sendable {
  /// The run folder.
  public var url: URL
  public var manifest: RunManifest
  /// Every cell folder found, in plan order first, then any others by name.
  public var cells: [StoredCell]
  /// False when loaded without intervals (`load(from:intervals: false)`): each cell's
  /// `intervals` is empty and `intervals(of:)` reads them from disk when needed.
  public var intervalsLoaded = true

  /// Reads a run folder.
  ///
  /// - Throws: `ResultsError.notARun` when the manifest is missing;
  ///   `ResultsError.unreadable` when a file does not decode. A cell folder
  ///   without a summary is not an error: it is an unfinished cell.
  /// - Parameter intervals: false to leave every cell's intervals on disk (the report
  ///   streams them through `intervals(of:)`, so its memory does not grow with the run).
  public static func load(from url: URL, intervals: Bool = true) throws -> RunStore {
    let layout = RunLayout(url)
    let manifest = try readManifest(of: url)
    let found = layout.cellIDs()
    let planned = manifest.plannedCells.filter { Set(found).contains($0) }
    let others = Set(found).subtracting(planned).sorted()
    // Cells are independent files: read them on every core, keep plan order.
    let ids = planned + others
    let results = LoadResults(count: ids.count)
    DispatchQueue.concurrentPerform(iterations: ids.count) { index in
      results.set(
        index,
        Result {
          try loadCell(
            id: ids[index], folder: layout.cell(ids[index]).directory, intervals: intervals)
        }
      )
    }
    let cells = try results.values.map { try $0!.get() }
    return RunStore(url: url, manifest: manifest, cells: cells, intervalsLoaded: intervals)
  }

  /// Reads the manifest of the run folder `url` alone (`pvbench watch` asks whether the
  /// run has ended).
  /// - Throws: `ResultsError.notARun` when the folder has no manifest;
  ///   `ResultsError.unreadable` when it does not decode.
  public static func readManifest(of url: URL) throws(ResultsError) -> RunManifest {
    let manifestURL = RunLayout(url).manifest
    guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
      throw ResultsError.notARun(path: url.path)
    }
    do {
      return try JSONDecoder().decode(RunManifest.self, from: data)
    } catch {
      throw ResultsError.unreadable(path: manifestURL.path, line: nil, reason: describe(error))
    }
  }

  /// Where each file of the run lives.
  package var layout: RunLayout { RunLayout(url) }

  /// `cell` with its intervals: as held, or read from disk when the store was loaded
  /// without them.
  /// - Throws: `ResultsError.unreadable` when the file does not decode.
  public func withIntervals(_ cell: StoredCell) throws -> StoredCell {
    guard !intervalsLoaded else { return cell }
    var copy = cell
    copy.intervals = try Self.readIntervals(url: layout.cell(cell.id).intervals)
    return copy
  }

  package static func loadCell(id: String, folder: URL, intervals readIntervals: Bool = true)
    throws -> StoredCell
  {
    let decoder = JSONDecoder()
    let files = CellFiles(folder)
    var summary: CellSummary?
    let summaryURL = files.summary
    if let data = FileManager.default.contents(atPath: summaryURL.path) {
      do {
        summary = try decoder.decode(CellSummary.self, from: data)
      } catch {
        throw ResultsError.unreadable(path: summaryURL.path, line: nil, reason: describe(error))
      }
    }
    let intervals = readIntervals ? try Self.readIntervals(url: files.intervals) : []
    let events = try readLines(EventRecord.self, url: files.events)
    return StoredCell(id: id, summary: summary, intervals: intervals, events: events)
  }

  /// Reads an intervals file (a missing file is empty): the fast parser, and
  /// `readLines` when a line has another shape or the last one is torn (a cell still
  /// being written, or a crash mid-write).
  package static func readIntervals(url: URL) throws -> [IntervalRecord] {
    if let data = FileManager.default.contents(atPath: url.path),
      let fast = IntervalLineParser.parse(data)
    {
      return fast
    }
    return try readLines(IntervalRecord.self, url: url)
  }

  /// Decodes a JSON-lines file in one pass; a missing file is empty.
  ///
  /// The lines are joined into one JSON array, which decodes several times faster
  /// than one decoder call per line; only on failure is the file decoded line by
  /// line, to name the line that is wrong. A torn last line (a crash mid-write)
  /// is dropped, since cells are written append-only.
  package static func readLines<T: Decodable>(_ type: T.Type, url: URL) throws -> [T] {
    guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
    var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    if let last = lines.last, data.last != UInt8(ascii: "\n"),
      (try? JSONSerialization.jsonObject(with: Data(last))) == nil
    {
      lines.removeLast()
    }
    var joined = Data([UInt8(ascii: "[")])
    joined.reserveCapacity(data.count + 2)
    for (index, line) in lines.enumerated() {
      if index > 0 { joined.append(UInt8(ascii: ",")) }
      joined.append(contentsOf: line)
    }
    joined.append(UInt8(ascii: "]"))
    let decoder = JSONDecoder()
    if let all = try? decoder.decode([T].self, from: joined) { return all }
    for (index, line) in lines.enumerated() {
      do {
        _ = try decoder.decode(T.self, from: Data(line))
      } catch {
        throw ResultsError.unreadable(path: url.path, line: index + 1, reason: describe(error))
      }
    }
    throw ResultsError.unreadable(path: url.path, line: nil, reason: "not JSON lines")
  }

  package static func describe(_ error: any Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let context):
      return
        "missing key '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return
        "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))': "
        + context.debugDescription
    case DecodingError.dataCorrupted(let context):
      return "invalid JSON: \(context.debugDescription)"
    default:
      return "\(error)"
    }
  }
}

/// Per-index results of a concurrent load, written under a lock.
package final class LoadResults: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [Result<StoredCell, any Error>?]

  package init(count: Int) {
    slots = Array(repeating: nil, count: count)
  }

  package func set(_ index: Int, _ result: Result<StoredCell, any Error>) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  package var values: [Result<StoredCell, any Error>?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }
}
