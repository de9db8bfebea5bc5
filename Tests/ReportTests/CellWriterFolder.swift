import Foundation
import Results

/// A fresh cell folder under the temporary directory with a `CellWriter` on it; the test
/// removes it with `remove()`.
struct CellWriterFolder {
  /// The cell folder.
  let directory: URL
  /// The writer of its files.
  let writer: CellWriter

  /// Creates `pvbench-<label>-<random>` and opens a writer on it.
  /// - Throws: when the folder cannot be created or the writer cannot open its files (the
  ///   folder is removed then).
  init(_ label: String) throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("pvbench-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    do {
      writer = try CellWriter(directory: directory)
    } catch {
      try? FileManager.default.removeItem(at: directory)
      throw error
    }
  }

  /// Removes the folder and everything in it.
  func remove() {
    try? FileManager.default.removeItem(at: directory)
  }
}
