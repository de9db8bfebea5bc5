/// An error a person reads while reporting on, or comparing, runs.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The folder does not exist or holds no `manifest.json`.
  case notARun(path: String)
  /// A store file does not decode.
  case unreadable(path: String, line: Int?, reason: String)
  /// The output folder cannot be written.
  case cannotWrite(path: String, reason: String)
  /// gnuplot ran and failed.
  case gnuplotFailed(path: String, status: Int32, stderr: String)

  public var description: String {
    switch self {
    case .notARun(let path):
      return
        "'\(path)' is not a run folder: it has no manifest.json. Pass a folder "
        + "results/<experiment>/<run-id> written by 'pvbench run'."
    case .unreadable(let path, let line, let reason):
      let place = line.map { "\(path):\($0)" } ?? path
      return
        "\(place): cannot read this results file (\(reason)). The run may have been written "
        + "by another pvbench version; re-run the cell, or remove the file if it is damaged."
    case .cannotWrite(let path, let reason):
      return "Cannot write '\(path)' (\(reason)). Choose another folder with --output."
    case .gnuplotFailed(let path, let status, let stderr):
      let detail = stderr.split(separator: "\n").first.map(String.init) ?? "no message"
      return
        "gnuplot '\(path)' exited with status \(status) (\(detail)). The .gp and .dat files "
        + "are kept beside the plots; run 'gnuplot NAME.gp' there to see the whole error."
    }
  }
}
