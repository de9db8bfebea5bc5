import Foundation

/// Appends a cell's intervals, events and samples as they arrive, so that an
/// interrupted cell keeps everything measured up to the interruption.
package final class CellWriter: @unchecked Sendable {
  package let directory: URL
  private let lock = NSLock()
  private let intervals: FileHandle
  private let events: FileHandle
  private let samples: FileHandle

  package init(directory: URL) throws {
    self.directory = directory
    func open(_ name: String, header: String? = nil) throws -> FileHandle {
      let url = directory.appendingPathComponent(name)
      FileManager.default.createFile(atPath: url.path, contents: header.map { Data($0.utf8) })
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
  }

  private func appendLine(_ data: Data, to handle: FileHandle) {
    lock.lock()
    defer { lock.unlock() }
    handle.write(data + Data("\n".utf8))
  }

  package func append(_ record: IntervalRecord) {
    if let data = try? ResultsStore.encoder.encode(record) { appendLine(data, to: intervals) }
  }

  package func append(_ record: EventRecord) {
    if let data = try? ResultsStore.encoder.encode(record) { appendLine(data, to: events) }
  }

  package func appendSample(_ line: String) {
    appendLine(Data(line.utf8), to: samples)
  }

  package func writeFile(_ name: String, _ data: Data) throws {
    try ResultsStore.writeAtomically(data, to: directory.appendingPathComponent(name))
  }

  /// Writes `cell.json` last: after this the cell has ended.
  package func finish(_ summary: CellSummary) throws {
    lock.lock()
    for handle in [intervals, events, samples] {
      handle.synchronizeFile()
      handle.closeFile()
    }
    lock.unlock()
    try ResultsStore.writeAtomically(
      try ResultsStore.prettyEncoder.encode(summary),
      to: directory.appendingPathComponent("cell.json"))
  }
}
