import Foundation

/// Appends a cell's intervals, events and samples as they arrive, so that an
/// interrupted cell keeps everything measured up to the interruption.
package final class CellWriter: @unchecked Sendable {
  package let directory: URL
  private let lock = NSLock()
  /// Open until `replaceIntervals` closes it to write the final lines.
  private var intervals: FileHandle?
  private let events: FileHandle
  private let samples: FileHandle
  private let hostSide: FileHandle

  package init(directory: URL) throws {
    self.directory = directory
    func open(_ name: String, header: String? = nil) throws -> FileHandle {
      let url = directory.appendingPathComponent(name)
      // A file that cannot be created is reported by the open just below.
      _ = FileManager.default.createFile(atPath: url.path, contents: header.map { Data($0.utf8) })
      guard let handle = try? FileHandle(forWritingTo: url) else {
        throw StoreError("cannot open \(url.path) for writing")
      }
      handle.seekToEndOfFile()
      return handle
    }
    intervals = try open("intervals.jsonl")
    events = try open("events.jsonl")
    samples = try open(
      "samples.csv", header: "time_ns,host,cpu,user,nice,system,idle,iowait,irq,softirq,steal\n")
    hostSide = try open("hostside.csv", header: Self.hostSideHeader + "\n")
  }

  /// The columns of `hostside.csv`: a qemu guest's vCPU threads seen from this machine.
  package static let hostSideHeader = "time_ns,host,vcpu,run_ns,wait_ns"

  /// Encodes `record` as one JSON line and appends it under the lock.
  ///
  /// - Throws: `StoreError` naming the file and `what` when the record does not encode
  ///   (a NaN or infinite number has no JSON form) or the line cannot be written, so a
  ///   lost record is never silent.
  private func appendLine(
    _ record: some Encodable, to handle: FileHandle?, file: String, what: String
  ) throws {
    let path = directory.appendingPathComponent(file).path
    let data: Data
    do {
      data = try ResultsStore.encoder.encode(record)
    } catch {
      throw StoreError("cannot store \(what) in \(path): \(Self.describe(error))")
    }
    lock.lock()
    defer { lock.unlock() }
    guard let handle = file == "intervals.jsonl" ? intervals : handle else {
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

  /// Replaces `intervals.jsonl` atomically with `records`, one line each.
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
    try ResultsStore.writeAtomically(text, to: directory.appendingPathComponent("intervals.jsonl"))
  }

  /// The line `intervals.jsonl` holds for `record`.
  /// - Throws: `StoreError` naming the interval and the key without a JSON form (a NaN).
  package func line(_ record: IntervalRecord) throws -> Data {
    do {
      return try ResultsStore.encoder.encode(record) + Data("\n".utf8)
    } catch {
      throw StoreError(
        "cannot store interval \(record.index) in \(directory.appendingPathComponent("intervals.jsonl").path): \(Self.describe(error))"
      )
    }
  }

  /// Appends one line to `intervals.jsonl`.
  /// - Throws: `StoreError` when the record cannot be encoded or written.
  package func append(_ record: IntervalRecord) throws {
    try appendLine(
      record, to: intervals, file: "intervals.jsonl", what: "interval \(record.index)")
  }

  /// Appends one line to `events.jsonl`.
  /// - Throws: `StoreError` when the record cannot be encoded or written.
  package func append(_ record: EventRecord) throws {
    try appendLine(
      record, to: events, file: "events.jsonl", what: "a \(record.kind.rawValue) event")
  }

  package func appendSample(_ line: String) {
    lock.lock()
    defer { lock.unlock() }
    // A sample that arrives after `finish` closed the files belongs to no cell.
    guard intervals != nil else { return }
    samples.write(Data((line + "\n").utf8))
  }

  /// Appends lines to `hostside.csv`: one per vCPU thread, cumulative run and wait ns.
  package func appendHostSide(_ lines: [String]) {
    guard !lines.isEmpty else { return }
    lock.lock()
    defer { lock.unlock() }
    guard intervals != nil else { return }
    hostSide.write(Data(lines.map { $0 + "\n" }.joined().utf8))
  }

  package func writeFile(_ name: String, _ data: Data) throws {
    try ResultsStore.writeAtomically(data, to: directory.appendingPathComponent(name))
  }

  /// Writes `cell.json` last: after this the cell has ended.
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
      to: directory.appendingPathComponent("cell.json"))
  }
}
