/// A results store that cannot be read: the reader's errors, for a person to read.
public enum ResultsError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The folder does not exist or holds no `manifest.json`.
  case notARun(path: String)
  /// A store file does not decode.
  case unreadable(path: String, line: Int?, reason: String)

  public var description: String {
    switch self {
    case .notARun(let path):
      return
        "'\(path)' is not a run folder: it has no \(RunLayout.manifestName). Pass a folder "
        + "results/<experiment>/<run-id> written by 'pvbench run'."
    case .unreadable(let path, let line, let reason):
      let place = line.map { "\(path):\($0)" } ?? path
      return
        "\(place): cannot read this results file (\(reason)). The run may have been written "
        + "by another pvbench version; re-run the cell, or remove the file if it is damaged."
    }
  }
}
