import Foundation
import LinuxHost

/// Finds and drives gnuplot through a pipe: the script goes to its standard input.
public struct Gnuplot: Sendable {
  /// The executable, or nil when none was found.
  public var executable: String?

  /// Uses `path` when given (a path, or a name searched on `PATH`), else the first
  /// `gnuplot` on `PATH`.
  public init(path: String? = nil) {
    executable = Executables.find(path ?? "gnuplot")
  }

  /// `pngcairo` when this gnuplot has it (sharper, anti-aliased), else `png`.
  public func pngTerminal() -> String {
    guard let executable,
      let result = try? Self.run(executable, script: "set terminal\n", in: nil)
    else { return "pngcairo" }
    return (result.stdout + result.stderr).contains("pngcairo") ? "pngcairo" : "png"
  }

  /// Runs `script` with `folder` as working directory.
  ///
  /// - Throws: `ReportError.gnuplotFailed` when gnuplot exits non-zero.
  public func render(script: String, in folder: URL) throws {
    guard let executable else { return }
    let result = try Self.run(executable, script: script, in: folder)
    if result.status != 0 {
      throw ReportError.gnuplotFailed(
        path: executable, status: result.status, stderr: result.stderr)
    }
  }

  /// Runs gnuplot with `script` on its standard input, in `folder` when given.
  ///
  /// Ten minutes at most: a plot takes seconds, and a gnuplot waiting for something else
  /// must not hold the report forever.
  /// - Throws: `ChildProcess.SpawnError` when gnuplot cannot start.
  static func run(
    _ executable: String, script: String, in folder: URL?
  ) throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try ChildProcess.collect(
      executable, [], input: Data(script.utf8), workingDirectory: folder?.path, timeout: 600)
    return (result.status, result.stdout, result.stderr)
  }
}
