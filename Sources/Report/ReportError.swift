/// An error a person reads while reporting on, or comparing, runs.
public enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The output folder cannot be written.
  case cannotWrite(path: String, reason: String)
  /// gnuplot ran and failed.
  case gnuplotFailed(path: String, status: Int32, stderr: String)

  public var description: String {
    switch self {
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
