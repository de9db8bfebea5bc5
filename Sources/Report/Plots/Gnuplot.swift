import CGnuplotBridge
import Foundation
import LinuxHost

/// Finds and drives gnuplot: scripts and inline data go to its standard input through
/// gnuplot-iostream (the `CGnuplotBridge` target), the process is one `ChildProcess`.
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

  /// Runs gnuplot on what `send` writes to it, in `folder` when given.
  ///
  /// Ten minutes at most: a plot takes seconds, and a gnuplot waiting for something else
  /// must not hold the report forever.
  /// - Throws: `ChildProcess.SpawnError` when gnuplot cannot start. A gnuplot that fails
  ///   is a result: its status and stderr.
  public static func session(
    _ executable: String, in folder: URL?,
    send: @escaping @Sendable (GnuplotSession) -> Void
  ) throws -> (status: Int32, stdout: String, stderr: String) {
    let result = try ChildProcess.collect(
      executable, [],
      input: .stream { fd in
        guard let handle = pvb_gnuplot_open(fd) else { return }
        let session = GnuplotSession(handle: handle)
        send(session)
        session.close()
      }, workingDirectory: folder?.path, timeout: 600)
    return (result.status, result.stdout, result.stderr)
  }

  /// Runs gnuplot with `script` on its standard input, in `folder` when given.
  static func run(
    _ executable: String, script: String, in folder: URL?
  ) throws -> (status: Int32, stdout: String, stderr: String) {
    try session(executable, in: folder) { $0.command(script) }
  }
}

/// One gnuplot session's input stream, through gnuplot-iostream.
///
/// Writes fail quietly once gnuplot has gone (a broken pipe): its exit status says why.
public final class GnuplotSession: @unchecked Sendable {
  private var handle: OpaquePointer?

  init(handle: OpaquePointer) { self.handle = handle }

  /// Sends gnuplot commands as they are (end each with a newline).
  /// - Returns: false when the stream has failed.
  @discardableResult
  public func command(_ text: String) -> Bool {
    guard let handle else { return false }
    return pvb_gnuplot_command(handle, text) == 0
  }

  /// Sends rows of numbers as one inline data block for a `plot '-'`.
  /// - Returns: false when the stream has failed or the rows are ragged.
  @discardableResult
  public func send(rows: [[Double]]) -> Bool {
    guard let handle, let columns = rows.first?.count,
      rows.allSatisfy({ $0.count == columns })
    else { return false }
    let values = rows.flatMap { $0 }
    return values.withUnsafeBufferPointer {
      pvb_gnuplot_send_rows(handle, $0.baseAddress!, rows.count, columns) == 0
    }
  }

  /// Flushes and ends the stream (gnuplot then sees end of file).
  func close() {
    guard let handle else { return }
    _ = pvb_gnuplot_close(handle)
    self.handle = nil
  }
}
