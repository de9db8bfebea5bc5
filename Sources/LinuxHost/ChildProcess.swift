import CPVBenchShims
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A child process with pipes for stdin/stdout and its stderr collected for error messages.
///
/// Spawned with posix_spawn and reaped with waitpid by this class itself, so a grandchild
/// that keeps a pipe open (ssh's control master) never hides the child's exit. Its
/// lifetime is scoped: `finish()` waits a bounded time after stdin is closed, then sends
/// SIGTERM, then SIGKILL, so no child outlives its owner.
package final class ChildProcess: @unchecked Sendable {
  /// The child's pid.
  package let pid: pid_t
  package let stdinWrite: Int32
  package let stdoutRead: Int32
  private let lock = NSLock()
  private var exitStatus: Int32?
  private let errors = Collected()

  /// A failure to start a child.
  package struct SpawnError: Error, CustomStringConvertible {
    package var executable: String
    package var errno: Int32
    package var description: String {
      "cannot start \(executable): \(String(cString: strerror(errno)))"
    }

    /// Memberwise.
    package init(
      executable: String,
      errno: Int32
    ) {
      self.executable = executable
      self.errno = errno
    }
  }

  /// Starts `executable arguments…` with `environment` added to this process's environment.
  ///
  /// - Throws: `SpawnError` when the file is missing or not executable.
  package init(executable: String, arguments: [String], environment: [String: String] = [:]) throws
  {
    var input: [Int32] = [0, 0]
    var output: [Int32] = [0, 0]
    var error: [Int32] = [0, 0]
    // Close-on-exec from birth: a child another thread spawns at the same moment must not
    // inherit our ends (ssh's control master would then hold an agent's stdin open).
    let created = [pvb_pipe_cloexec(&input), pvb_pipe_cloexec(&output), pvb_pipe_cloexec(&error)]
    if let failure = created.first(where: { $0 != 0 }) {
      throw SpawnError(executable: executable, errno: -failure)
    }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input[0], 0)
    posix_spawn_file_actions_adddup2(&actions, output[1], 1)
    posix_spawn_file_actions_adddup2(&actions, error[1], 2)
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var child: pid_t = 0
    let result = posix_spawn(&child, executable, &actions, nil, argv, envp)
    close(input[0])
    close(output[1])
    close(error[1])
    if result != 0 {
      close(input[1])
      close(output[0])
      close(error[0])
      throw SpawnError(executable: executable, errno: result)
    }
    pid = child
    stdinWrite = input[1]
    stdoutRead = output[0]
    let errorRead = error[0]
    let sink = errors
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let count = buffer.withUnsafeMutableBytes { read(errorRead, $0.baseAddress, $0.count) }
        if count > 0 {
          sink.append(Data(buffer[0..<count]))
        } else if count < 0 && errno == EINTR {
          continue
        } else {
          break
        }
      }
      close(errorRead)
      sink.finish()
    }
    thread.start()
  }

  deinit { close(stdoutRead) }

  /// What the child wrote on stderr so far (the last 8 KiB).
  package var stderr: String { errors.text }

  /// True until the child has exited (reaps it when it has).
  package var isRunning: Bool {
    lock.withLock {
      if exitStatus != nil { return false }
      var status: Int32 = 0
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid || (result < 0 && errno == ECHILD) {
        exitStatus = status
        return false
      }
      return true
    }
  }

  /// The exit code, or 128 + the signal number for a killed child; -1 while running.
  package var terminationStatus: Int32 {
    guard !isRunning, let status = lock.withLock({ exitStatus }) else { return -1 }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
  }

  /// Waits up to `grace` seconds for the child to exit, then SIGTERM, then SIGKILL.
  package func finish(grace: Double = 15) {
    let deadline = Date().addingTimeInterval(grace)
    while isRunning && Date() < deadline { usleep(5_000) }
    if isRunning {
      kill(pid, SIGTERM)
      let hard = Date().addingTimeInterval(5)
      while isRunning && Date() < hard { usleep(5_000) }
      if isRunning {
        kill(pid, SIGKILL)
        while isRunning { usleep(5_000) }
      }
    }
  }

  /// Runs a command to completion with a time limit; returns status, stdout and stderr.
  ///
  /// A non-zero exit status is a result, not an error; a command that cannot start
  /// returns status 127.
  package static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    timeout: Double = 60
  ) -> (status: Int32, stdout: String, stderr: String) {
    let child: ChildProcess
    do {
      child = try ChildProcess(
        executable: executable, arguments: arguments, environment: environment)
    } catch {
      return (127, "", "\(error)")
    }
    close(child.stdinWrite)
    let collected = Collected()
    let fd = child.stdoutRead
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
          collected.append(Data(buffer[0..<count]))
        } else if count < 0 && errno == EINTR {
          continue
        } else {
          break
        }
      }
      collected.finish()
    }
    thread.start()
    child.finish(grace: timeout)
    // A process the child left behind (ssh's control master) may hold the pipe open:
    // wait briefly for end of file, not for that process.
    let drain = Date().addingTimeInterval(1)
    while !(collected.isFinished && child.errors.isFinished) && Date() < drain { usleep(2_000) }
    return (child.terminationStatus, collected.text, child.stderr)
  }
}

/// Bytes a reader thread collects, readable from another thread.
package final class Collected: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  private var finished = false

  /// Appends a chunk, keeping the last 64 KiB.
  package func append(_ chunk: Data) {
    lock.withLock {
      data.append(chunk)
      if data.count > 65536 { data = data.suffix(32768) }
    }
  }
  /// Marks end of file.
  package func finish() { lock.withLock { finished = true } }
  /// True after end of file.
  package var isFinished: Bool { lock.withLock { finished } }
  /// The bytes as UTF-8 text.
  package var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
