import Foundation

extension ResultsStore {
  /// Creates a run in exactly `url` (the folder `pvbench submit` gives each shard, so
  /// its status and merge know where to look): created with its parents, or an empty
  /// folder that exists.
  /// - Throws: `StoreError` when the folder holds anything or cannot be created.
  package static func create(at url: URL) throws -> ResultsStore {
    let manager = FileManager.default
    if let entries = try? manager.contentsOfDirectory(atPath: url.path) {
      guard entries.isEmpty else {
        throw StoreError(
          "\(url.path) is not empty; give a new folder, or resume the run in it with --resume")
      }
    } else {
      do {
        try manager.createDirectory(at: url, withIntermediateDirectories: true)
      } catch {
        throw StoreError("cannot create \(url.path): \(error.localizedDescription)")
      }
    }
    try? manager.createDirectory(
      at: RunLayout(url).cells, withIntermediateDirectories: false)
    return ResultsStore(runDirectory: url)
  }
}
