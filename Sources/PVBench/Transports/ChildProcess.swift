import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A child process with pipes for stdin/stdout and its stderr collected for error messages.
///
/// Its lifetime is scoped: `finish()` waits a bounded time after stdin is closed, then
/// sends SIGTERM, then SIGKILL, so no child outlives its owner.
final class ChildProcess: @unchecked Sendable {
  let process = Process()
  private let input = Pipe()
  private let output = Pipe()
  private let errors = Pipe()
  private let lock = NSLock()
  private var stderrText = ""

  /// Starts `executable arguments…`.
  ///
  /// - Throws: the launch error (the file is missing or not executable).
  init(executable: String, arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty {
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let handle = errors.fileHandleForReading
    let thread = Thread { [self] in
      while true {
        let data = handle.availableData
        if data.isEmpty { break }
        lock.lock()
        stderrText += String(decoding: data, as: UTF8.self)
        if stderrText.count > 16384 { stderrText = String(stderrText.suffix(8192)) }
        lock.unlock()
      }
    }
    thread.start()
  }

  /// A line channel over the child's stdout (read) and stdin (write).
  func channel() -> LineChannel {
    LineChannel(
      readFD: output.fileHandleForReading.fileDescriptor,
      writeFD: input.fileHandleForWriting.fileDescriptor)
  }

  /// The child's pid.
  var pid: Int32 { process.processIdentifier }

  /// The exit status once it exited (a signal's number for a killed child).
  var terminationStatus: Int32 { process.terminationStatus }

  /// What the child wrote on stderr so far.
  var stderr: String {
    lock.lock()
    defer { lock.unlock() }
    return stderrText
  }

  /// Waits up to `grace` seconds for the child to exit, then terminates it.
  func finish(grace: Double = 15) {
    let deadline = Date().addingTimeInterval(grace)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGTERM)
      let hard = Date().addingTimeInterval(5)
      while process.isRunning && Date() < hard { usleep(10_000) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
    process.waitUntilExit()
  }

  /// Runs a command to completion with a time limit; returns status, stdout and stderr.
  static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Double = 60
  ) -> (status: Int32, stdout: String, stderr: String) {
    guard
      let child = try? ChildProcess(
        executable: executable, arguments: arguments, environment: environment)
    else {
      return (127, "", "cannot start \(executable)")
    }
    try? child.input.fileHandleForWriting.close()
    let handle = child.output.fileHandleForReading
    nonisolated(unsafe) var data = Data()
    let done = MonitorSet.StopFlag()
    let thread = Thread {
      data = handle.readDataToEndOfFile()
      done.markDone()
    }
    thread.start()
    let deadline = Date().addingTimeInterval(timeout)
    while !done.isDone && Date() < deadline { usleep(5_000) }
    child.finish(grace: 0)
    while !done.isDone { usleep(5_000) }
    usleep(20_000)
    return (child.process.terminationStatus, String(decoding: data, as: UTF8.self), child.stderr)
  }
}
