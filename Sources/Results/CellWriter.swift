import Foundation

/// Appends a cell's intervals, events and samples as they arrive, so that an
/// interrupted cell keeps everything measured up to the interruption.
package final class CellWriter: @unchecked Sendable {
  package let directory: URL
  /// The names of the files in `directory`.
  package let files: CellFiles
  private let lock = NSLock()
  /// Open until `replaceIntervals` closes it to write the final lines.
  private var intervals: FileHandle?
  private let events: FileHandle
  private let samples: FileHandle
  private let hostSide: FileHandle

  package init(directory: URL) throws {
    self.directory = directory
    let files = CellFiles(directory)
    self.files = files
    func open(_ url: URL, header: String? = nil) throws -> FileHandle {
      // A file that cannot be created is reported by the open just below.
      _ = FileManager.default.createFile(
        atPath: url.path, contents: header.map { Data(($0 + "\n").utf8) })
      guard let handle = try? FileHandle(forWritingTo: url) else {
        throw StoreError("cannot open \(url.path) for writing")
      }
      handle.seekToEndOfFile()
      return handle
    }
    intervals = try open(files.intervals)
    events = try open(files.events)
    samples = try open(files.samples, header: CPUSampleRow.header)
    hostSide = try open(files.hostSide, header: HostSideRow.header)
  }

  /// Encodes `record` as one JSON line and appends it under the lock.
  ///
  /// - Throws: `StoreError` naming the file and `what` when the record does not encode
  ///   (a NaN or infinite number has no JSON form) or the line cannot be written, so a
  ///   lost record is never silent.
  private func appendLine(
    _ record: some Encodable, to handle: FileHandle?, file: URL, what: String
  ) throws {
    let path = file.path
    let data: Data
    do {
      data = try ResultsStore.encoder.encode(record)
    } catch {
      throw StoreError("cannot store \(what) in \(path): \(Self.describe(error))")
    }
    lock.lock()
    defer { lock.unlock() }
    guard let handle = file == files.intervals ? intervals : handle else {
      throw StoreError("cannot store \(what) in \(path): the file is already final")
    }
    do {
      try handle.write(contentsOf: data + Data("\n".utf8))
    } catch {
      throw StoreError("cannot store \(what) in \(path): \(error.localizedDescription)")
    }
  }

  /// The key path and reason of an encoding failure, in a sentence fragment.
  private static func describe(_ error: any Error) -> String {
    guard case EncodingError.invalidValue(_, let context) = error else { return "\(error)" }
    let path = context.codingPath.map(\.stringValue).joined(separator: ".")
    return "'\(path)' has no JSON form (\(context.debugDescription))"
  }

  /// Replaces the intervals file atomically with `records`, one line each.
  ///
  /// The lines appended while the cell ran were written as each interval arrived, with
  /// the phase edges, samples and mode changes known then; at the end of the cell they are
  /// tagged again with everything known and this writes the final lines. A run killed
  /// before that keeps the provisional ones.
  /// - Throws: `StoreError` when a record does not encode or the file cannot be written.
  package func replaceIntervals(_ records: [IntervalRecord]) throws {
    var text = Data()
    for record in records { text += try line(record) }
    lock.lock()
    defer { lock.unlock() }
    intervals?.synchronizeFile()
    intervals?.closeFile()
    intervals = nil
    try ResultsStore.writeAtomically(text, to: files.intervals)
  }

  /// The line the intervals file holds for `record`.
  /// - Throws: `StoreError` naming the interval and the key without a JSON form (a NaN).
  package func line(_ record: IntervalRecord) throws -> Data {
    do {
      return try ResultsStore.encoder.encode(record) + Data("\n".utf8)
    } catch {
      throw StoreError(
        "cannot store interval \(record.index) in \(files.intervals.path): \(Self.describe(error))"
      )
    }
  }

  /// Appends one line to the intervals file.
  /// - Throws: `StoreError` when the record cannot be encoded or written.
  package func append(_ record: IntervalRecord) throws {
    try appendLine(
      record, to: intervals, file: files.intervals, what: "interval \(record.index)")
  }

  /// Appends one line to the events file.
  /// - Throws: `StoreError` when the record cannot be encoded or written.
  package func append(_ record: EventRecord) throws {
    try appendLine(
      record, to: events, file: files.events, what: "a \(record.kind.rawValue) event")
  }

  /// Appends rows to `samples.csv`, in one write.
  package func append(_ rows: [CPUSampleRow]) {
    write(CSVRows.lines(rows), to: samples)
  }

  /// Appends rows to `hostside.csv`, in one write: one per vCPU thread, cumulative run
  /// and wait ns.
  package func append(_ rows: [HostSideRow]) {
    write(CSVRows.lines(rows), to: hostSide)
  }

  private func write(_ text: String, to handle: FileHandle) {
    guard !text.isEmpty else { return }
    lock.lock()
    defer { lock.unlock() }
    // A sample that arrives after `finish` closed the files belongs to no cell.
    guard intervals != nil else { return }
    handle.write(Data(text.utf8))
  }

  /// Writes the cell's summary last: after this the cell has ended.
  package func finish(_ summary: CellSummary) throws {
    lock.lock()
    for handle in [intervals, events, samples, hostSide].compactMap({ $0 }) {
      handle.synchronizeFile()
      handle.closeFile()
    }
    intervals = nil
    lock.unlock()
    try ResultsStore.writeAtomically(
      try ResultsStore.prettyEncoder.encode(summary),
      to: files.summary)
  }
}
