import Foundation
import LinuxHost

/// Runs short helper programs (`ldd`, `xz`, `zstd`) and captures their output.
///
/// Only for quick, bounded commands at image build time; long-lived children such as QEMU are
/// managed by `QEMUGuest`.
package enum VMShell {
  /// The outcome of a finished helper command.
  package struct Output: Sendable {
    /// The exit status (or the terminating signal number when it was killed).
    package var status: Int32
    /// Everything the command wrote to standard output.
    package var stdout: Data
    /// Everything the command wrote to standard error, decoded as UTF-8.
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
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw VMError(
        "Could not start '\(executable)': \(error.localizedDescription). "
          + "Install it or check the PATH.")
    }
    // Drain both pipes concurrently so a chatty child never blocks on a full pipe.
    let outBox = DataBox()
    let errBox = DataBox()
    let group = DispatchGroup()
    for (pipe, box) in [(out, outBox), (err, errBox)] {
      group.enter()
      DispatchQueue.global().async {
        box.set(pipe.fileHandleForReading.readDataToEndOfFile())
        group.leave()
      }
    }
    if group.wait(timeout: .now() + timeout.secondsDouble) == .timedOut {
      kill(process.processIdentifier, SIGKILL)
      group.wait()
      process.waitUntilExit()
      throw VMError(
        "'\(executable) \(arguments.joined(separator: " "))' did not finish within \(timeout); "
          + "it was killed.")
    }
    process.waitUntilExit()
    return Output(
      status: process.terminationStatus, stdout: outBox.get(),
      stderr: String(decoding: errBox.get(), as: UTF8.self))
  }

  /// Finds `name` on `PATH`, then in the sbin folders and /usr/bin (image tools such as
  /// `strip` and QEMU may sit outside a minimal `PATH`), or returns nil.
  package static func which(_ name: String) -> String? {
    Executables.find(name, extraDirectories: Executables.systemDirectories + ["/usr/bin"])
  }
}

/// A lock-protected `Data` slot filled by a reader thread.
private final class DataBox: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()

  func set(_ value: Data) {
    lock.lock()
    data = value
    lock.unlock()
  }

  func get() -> Data {
    lock.lock()
    defer { lock.unlock() }
    return data
  }
}
