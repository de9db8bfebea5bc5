import CPVBenchShims
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A child process with pipes for stdin/stdout and its stderr collected for error messages.
///
/// The one runner of child programs that pvbench talks to or collects output from (agents,
/// ssh, scp, kmod tools, image tools, gnuplot); `run` is the run-and-collect entry point.
/// Spawned by `ParentBoundSpawn` (the kernel sends it SIGTERM when pvbench ends, even by
/// SIGKILL: an agent then restores its host and exits) and reaped with waitpid by this
/// class itself, so a grandchild
/// that keeps a pipe open (ssh's control master) never hides the child's exit. Its
/// lifetime is scoped: `finish()` waits a bounded time after stdin is closed, then sends
/// SIGTERM, then SIGKILL, so no child outlives its owner.
///
/// The child starts with every signal at its default disposition and none blocked: the
/// controller and the agent ignore SIGINT, SIGTERM, SIGHUP and SIGPIPE to handle them
/// their own way, and a child inheriting that would ignore `finish()`'s SIGTERM (ssh keeps
/// an inherited SIG_IGN) and never see a closed pipe. The child gets its own process
/// group, so a Ctrl-C at the terminal reaches only pvbench, which then stops its children
/// in order (restoring hosts first) instead of losing its ssh sessions and agents at once.
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
  }

  /// Starts `executable arguments…` with `environment` added to this process's environment.
  ///
  /// - Parameters:
  ///   - executable: an absolute path (`Executables.find` resolves names).
  ///   - workingDirectory: the child's working directory; this process's when nil.
  /// - Throws: `SpawnError` when the file is missing or not executable, or the working
  ///   directory does not exist.
  package init(
    executable: String, arguments: [String], environment: [String: String] = [:],
    workingDirectory: String? = nil
  ) throws(SpawnError) {
    var input: [Int32] = [0, 0]
    var output: [Int32] = [0, 0]
    var error: [Int32] = [0, 0]
    // Close-on-exec from birth: a child another thread spawns at the same moment must not
    // inherit our ends (ssh's control master would then hold an agent's stdin open).
    let created = [pvb_pipe_cloexec(&input), pvb_pipe_cloexec(&output), pvb_pipe_cloexec(&error)]
    if let failure = created.first(where: { $0 != 0 }) {
      throw SpawnError(executable: executable, errno: -failure)
    }
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    let spawned = ParentBoundSpawn.spawn(
      executable, arguments: arguments, environment: merged.map { "\($0.key)=\($0.value)" },
      descriptors: [(input[0], 0), (output[1], 1), (error[1], 2)],
      directory: workingDirectory, newGroup: true, deathSignal: SIGTERM)
    close(input[0])
    close(output[1])
    close(error[1])
    let child: pid_t
    switch spawned {
    case .success(let pid): child = pid
    case .failure(let failure):
      close(input[1])
      close(output[0])
      close(error[0])
      throw SpawnError(executable: executable, errno: failure.errno)
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

  /// What the child wrote on stderr so far (the last 32 to 64 KiB: enough for a message).
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
  /// - Returns: true when the child had to be signalled, false when it exited in time.
  @discardableResult
  package func finish(grace: Double = 15) -> Bool {
    let deadline = Date().addingTimeInterval(grace)
    while isRunning && Date() < deadline { usleep(5_000) }
    guard isRunning else { return false }
    kill(pid, SIGTERM)
    let hard = Date().addingTimeInterval(5)
    while isRunning && Date() < hard { usleep(5_000) }
    if isRunning {
      kill(pid, SIGKILL)
      while isRunning { usleep(5_000) }
    }
    return true
  }

  /// What a command run to completion left behind.
  package struct Output: Sendable {
    /// The exit code, or 128 + the signal number for a killed child; 127 when it could not
    /// start.
    package var status: Int32
    /// Everything the command wrote to standard output.
    package var stdoutData: Data
    /// The end of what it wrote to standard error (or why it could not start).
    package var stderr: String
    /// True when the command outlived its time limit and was terminated.
    package var timedOut: Bool

    /// Standard output decoded as UTF-8.
    package var stdout: String { String(decoding: stdoutData, as: UTF8.self) }

    /// Memberwise.
    package init(status: Int32, stdoutData: Data, stderr: String, timedOut: Bool = false) {
      self.status = status
      self.stdoutData = stdoutData
      self.stderr = stderr
      self.timedOut = timedOut
    }
  }

  /// Runs a command to completion with a time limit and collects its output.
  ///
  /// Standard output is kept whole (`xz -dc` of an image is binary and large); standard
  /// error keeps its end. After `timeout` seconds the command gets SIGTERM, then SIGKILL.
  /// - Parameters:
  ///   - input: written to the command's standard input, which is then closed; with nil the
  ///     command sees end of file at once. A command that exits without reading it all is
  ///     not an error (what it did is in the status).
  ///   - workingDirectory: the command's working directory; this process's when nil.
  /// - Returns: the outcome. A non-zero exit status is a result, not an error; a command
  ///   that cannot start returns status 127 and the reason in `stderr`, as a shell would
  ///   (`collect` throws instead).
  package static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    input: Data? = nil, workingDirectory: String? = nil, timeout: Double = 60
  ) -> Output {
    do {
      return try collect(
        executable, arguments, environment: environment, input: input.map(Input.data),
        workingDirectory: workingDirectory, timeout: timeout)
    } catch {
      return Output(status: 127, stdoutData: Data(), stderr: "\(error)")
    }
  }

  /// What a command reads on its standard input.
  package enum Input: Sendable {
    /// These bytes, then end of file.
    case data(Data)
    /// Whatever the closure writes to the descriptor it is given (on a thread of its own,
    /// with SIGPIPE blocked, so a command that exits early makes writes fail with EPIPE);
    /// the descriptor is closed after the closure returns.
    case stream(@Sendable (_ fd: Int32) -> Void)
  }

  /// `run`, for callers that report a command that cannot start differently from one that
  /// fails.
  /// - Throws: `SpawnError` when the command cannot start; a non-zero exit status or a
  ///   timeout is a result, not an error.
  package static func collect(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    input: Input? = nil, workingDirectory: String? = nil, timeout: Double = 60
  ) throws(SpawnError) -> Output {
    let child = try ChildProcess(
      executable: executable, arguments: arguments, environment: environment,
      workingDirectory: workingDirectory)
    // Write on a thread of its own while the output is drained: a child that answers
    // before reading everything would otherwise fill one pipe while we block on the other.
    let writeFD = child.stdinWrite
    if let input {
      let writer = Thread {
        // A child gone early closes the pipe. Blocked in this thread only, the SIGPIPE of
        // that write stays pending here and dies with the thread, and write returns EPIPE;
        // the process's own dispositions are left alone.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        guard case .data(let data) = input else {
          if case .stream(let write) = input { write(writeFD) }
          close(writeFD)
          return
        }
        data.withUnsafeBytes { bytes in
          var offset = 0
          while offset < bytes.count {
            let count = write(writeFD, bytes.baseAddress! + offset, bytes.count - offset)
            if count > 0 {
              offset += count
            } else if count < 0 && errno == EINTR {
              continue
            } else {
              break
            }
          }
        }
        close(writeFD)
      }
      writer.start()
    } else {
      close(writeFD)
    }
    let collected = Collected(keepingAll: true)
    let fd = child.stdoutRead
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 65536)
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
    let timedOut = child.finish(grace: timeout)
    // A process the child left behind (ssh's control master) may hold the pipe open:
    // wait briefly for end of file, not for that process.
    let drain = Date().addingTimeInterval(1)
    while !(collected.isFinished && child.errors.isFinished) && Date() < drain { usleep(2_000) }
    return Output(
      status: child.terminationStatus, stdoutData: collected.data, stderr: child.stderr,
      timedOut: timedOut)
  }
}

/// Bytes a reader thread collects, readable from another thread.
package final class Collected: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes = Data()
  private var finished = false
  private let keepingAll: Bool

  /// A collector that keeps everything, or (by default) only the end: between 32 and 64 KiB,
  /// enough for an error message from a chatty child.
  package init(keepingAll: Bool = false) { self.keepingAll = keepingAll }

  /// Appends a chunk.
  package func append(_ chunk: Data) {
    lock.withLock {
      bytes.append(chunk)
      if !keepingAll && bytes.count > 65536 { bytes = bytes.suffix(32768) }
    }
  }
  /// The bytes so far.
  package var data: Data { lock.withLock { bytes } }
  /// Marks end of file.
  package func finish() { lock.withLock { finished = true } }
  /// True after end of file.
  package var isFinished: Bool { lock.withLock { finished } }
  /// The bytes as UTF-8 text.
  package var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }
}
