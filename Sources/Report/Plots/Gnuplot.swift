import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

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

  static func run(
    _ executable: String, script: String, in folder: URL?
  ) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    if let folder { process.currentDirectoryURL = folder }
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Drain both pipes on their own threads so gnuplot never blocks writing.
    let outBox = DataBox()
    let errBox = DataBox()
    let readers = [
      Thread { outBox.set(output.fileHandleForReading.readDataToEndOfFile()) },
      Thread { errBox.set(errors.fileHandleForReading.readDataToEndOfFile()) },
    ]
    readers.forEach { $0.start() }
    // A gnuplot that exits early (a bad script, or not gnuplot at all) closes its end of
    // the pipe; writing then must be an error we report, not a SIGPIPE that kills us.
    signal(SIGPIPE, SIG_IGN)
    try? input.fileHandleForWriting.write(contentsOf: Data(script.utf8))
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    outBox.wait()
    errBox.wait()
    return (process.terminationStatus, outBox.text, errBox.text)
  }
}

/// Bytes read by a reader thread, handed over under a lock.
final class DataBox: @unchecked Sendable {
  private let condition = NSCondition()
  private var data: Data?

  func set(_ value: Data) {
    condition.lock()
    data = value
    condition.signal()
    condition.unlock()
  }

  func wait() {
    condition.lock()
    while data == nil { condition.wait() }
    condition.unlock()
  }

  var text: String {
    condition.lock()
    defer { condition.unlock() }
    return String(decoding: data ?? Data(), as: UTF8.self)
  }
}
