import Foundation
import LinuxHost

/// Runs short helper programs (`ldd`, `xz`, `zstd`) and captures their output.
///
/// Only for quick, bounded commands at image build time; long-lived children such as QEMU are
/// managed by `QEMUGuest`.
package enum VMShell {
  /// The outcome of a finished helper command.
  package struct Output: Sendable {
    /// The exit status, or 128 + the signal number when it was killed.
    package var status: Int32
    /// Everything the command wrote to standard output.
    package var stdout: Data
    /// The end of what the command wrote to standard error (32 to 64 KiB), decoded as UTF-8.
    package var stderr: String

    /// Memberwise.
    package init(
      status: Int32,
      stdout: Data,
      stderr: String
    ) {
      self.status = status
      self.stdout = stdout
      self.stderr = stderr
    }
  }

  /// Runs `executable arguments…` and waits for it to finish, killing it after `timeout`.
  ///
  /// - Returns: the status and output. A non-zero status is a result, not a thrown error.
  /// - Throws: `VMError` when the program cannot be started or does not finish in time.
  package static func run(
    _ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)
  ) throws -> Output {
    let result: ChildProcess.Output
    do {
      result = try ChildProcess.collect(executable, arguments, timeout: timeout.secondsDouble)
    } catch {
      throw VMError("Could not start '\(executable)': \(error). Install it or check the PATH.")
    }
    if result.timedOut {
      throw VMError(
        "'\(executable) \(arguments.joined(separator: " "))' did not finish within \(timeout); "
          + "it was killed.")
    }
    return Output(status: result.status, stdout: result.stdoutData, stderr: result.stderr)
  }

  /// Finds `name` on `PATH`, then in the sbin folders and /usr/bin (image tools such as
  /// `strip` and QEMU may sit outside a minimal `PATH`), or returns nil.
  package static func which(_ name: String) -> String? {
    Executables.find(name, extraDirectories: Executables.systemDirectories + ["/usr/bin"])
  }
}
