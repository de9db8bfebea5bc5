import Foundation

/// A fresh folder under the temporary directory for the files one test writes; the test
/// removes it with `remove()` (usually in a `defer` right after creating it).
public struct ScratchFolder: Sendable {
  /// The folder.
  public let url: URL

  /// The folder's path.
  public var path: String { url.path }

  /// Creates `pvbench-<label>-<random>` under the temporary directory.
  /// - Throws: when the folder cannot be created.
  public init(_ label: String) throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// Writes `text` to the file `name` in the folder.
  /// - Returns: the file's path.
  /// - Throws: when the file cannot be written.
  @discardableResult
  public func write(_ text: String, to name: String) throws -> String {
    let file = url.appendingPathComponent(name).path
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return file
  }

  /// Writes a tree of files below the folder, as a fake root: each key is an absolute path
  /// under the folder (`/sys/devices/system/cpu/online`), its parent folders made as needed.
  /// - Throws: when a folder or file cannot be written.
  public func write(tree files: [String: String]) throws {
    for (file, contents) in files {
      let target = URL(fileURLWithPath: path + file)
      try FileManager.default.createDirectory(
        at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(contents.utf8).write(to: target)
    }
  }

  /// Removes the folder and everything in it.
  public func remove() {
    try? FileManager.default.removeItem(at: url)
  }
}
