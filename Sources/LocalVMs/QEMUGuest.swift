import Foundation
import LinuxHost
import Synchronization
import Vocabulary

#if canImport(Glibc)
  import Glibc
#endif

/// A running QEMU guest: its process, its temporary folder, its console and agent socket.
///
/// `launch` starts QEMU; `waitForAgent` connects to the agent socket and waits for the hello
/// line; `shutdown` ends QEMU (closing the channel so the agent exits and the guest powers
/// off, then SIGTERM, then SIGKILL) and removes the folder. `deinit` does the same for a
/// guest nobody shut down, and `QEMUGuestRegistry.shared.terminateAll()` does it from a
/// signal handler, so no QEMU process or folder outlives pvbench.
package final class QEMUGuest: Sendable {
  /// What was launched.
  package let configuration: QEMUGuestConfiguration
  /// The QEMU process id.
  package let pid: Int32
  /// The guest's private folder (`console.log`, `agent.sock`, `qemu.log`).
  package let directory: String
  /// When QEMU was started (monotonic).
  package let launchedAt: ContinuousClock.Instant

  private struct State {
    var exitStatus: Int32?
    var channel: Int32?
    var finished = false
  }
  private let state = Mutex(State())

  /// The guest's serial console (ttyS0) log.
  package var consoleLogPath: String { directory + "/console.log" }
  /// The agent's unix socket (QEMU is the server).
  package var agentSocketPath: String { directory + "/agent.sock" }
  /// QEMU's own standard output and error.
  package var qemuLogPath: String { directory + "/qemu.log" }

  private init(
    configuration: QEMUGuestConfiguration, pid: Int32, directory: String,
    launchedAt: ContinuousClock.Instant
  ) {
    self.configuration = configuration
    self.pid = pid
    self.directory = directory
    self.launchedAt = launchedAt
  }

  deinit {
    _ = finish(grace: .zero)
  }

  /// Starts QEMU for `configuration` in a fresh folder under `temporaryRoot`.
  /// - Throws: `VMError` when QEMU is not installed, the memory is too small for the image,
  ///   or the process cannot be started.
  package static func launch(
    _ configuration: QEMUGuestConfiguration, temporaryRoot: String = NSTemporaryDirectory()
  ) throws -> QEMUGuest {
    guard let qemu = VMShell.which(configuration.qemu) else {
      let package = configuration.architecture == .ppc64le ? "qemu-system-ppc" : "qemu-system-x86"
      throw VMError(
        "QEMU ('\(configuration.qemu)') is not installed. Install it with "
          + "'apt-get install \(package)'.")
    }
    let fm = FileManager.default
    let imageBytes =
      (try? fm.attributesOfItem(atPath: configuration.initrdPath)[.size] as? Int) ?? 0
    let neededMiB = Self.minimumMemoryMiB(imageBytes: imageBytes)
    if configuration.memoryMiB < neededMiB {
      throw VMError(
        "Guest \(configuration.name): \(configuration.memoryMiB) MiB of memory is too little "
          + "for a \(imageBytes >> 20) MiB image; give it at least \(neededMiB) MiB.")
    }
    let root = temporaryRoot.hasSuffix("/") ? String(temporaryRoot.dropLast()) : temporaryRoot
    var template = Array("\(root)/pvbench-vm-\(getpid())-\(configuration.name)-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
      throw VMError(
        "Cannot create a temporary folder under '\(root)' for guest \(configuration.name): "
          + "\(String(cString: strerror(errno))).")
    }
    let directory = String(cString: made)
    let arguments = configuration.arguments(directory: directory)
    let pid: Int32
    do {
      pid = try spawn(qemu, arguments, logPath: directory + "/qemu.log")
    } catch {
      try? fm.removeItem(atPath: directory)
      throw error
    }
    QEMUGuestRegistry.shared.register(pid: pid, directory: directory)
    return QEMUGuest(
      configuration: configuration, pid: pid, directory: directory, launchedAt: .now)
  }

  /// The smallest guest memory that holds the kernel, the packed image and its unpacked copy.
  package static func minimumMemoryMiB(imageBytes: Int) -> Int {
    (imageBytes >> 20) * 2 + 96
  }

  /// True until QEMU has exited (reaps it when it has).
  package var isRunning: Bool {
    state.withLock { state in
      if state.exitStatus != nil { return false }
      var status: Int32 = 0
      let result = waitpid(pid, &status, WNOHANG)
      if result == pid || (result < 0 && errno == ECHILD) {
        state.exitStatus = status
        return false
      }
      return true
    }
  }

  /// Connects to the agent socket and waits until the agent's hello line is there.
  ///
  /// The hello is only peeked at (`MSG_PEEK`), never consumed, so an `AgentClient` reading
  /// the returned descriptor sees the whole stream from its first byte.
  /// - Returns: the connected descriptor (owned by the guest; `shutdown` closes it) and the
  ///   hello line.
  /// - Throws: `VMError` quoting the console's last lines when QEMU exits or the timeout
  ///   passes first.
  package func waitForAgent(timeout: Duration) throws -> (fileDescriptor: Int32, hello: String) {
    let deadline = ContinuousClock.now + timeout
    let fd = try connectChannel(deadline: deadline, timeout: timeout)
    var lastSeen = -1
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      var pollfd = Glibc.pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      let ready = poll(&pollfd, 1, 50)
      if ready > 0 {
        let count = recv(fd, &buffer, buffer.count, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        if count == 0 {
          throw failure("closed the agent channel before the agent said hello", timeout: timeout)
        }
        if count > 0 && count != lastSeen {
          lastSeen = count
          let text = String(decoding: buffer[0..<count], as: UTF8.self)
          for line in text.split(separator: "\n", omittingEmptySubsequences: true)
          where Self.isHello(String(line)) {
            return (fd, String(line))
          }
        } else if count > 0 {
          usleep(20_000)  // Same bytes as before: poll stays readable, so do not spin.
        }
      }
      if !isRunning {
        throw failure("exited before the agent said hello", timeout: timeout)
      }
      if ContinuousClock.now >= deadline {
        throw failure("did not say hello within \(timeout)", timeout: timeout)
      }
    }
  }

  /// True when `line` is a JSON object whose `event` is `hello`.
  package static func isHello(_ line: String) -> Bool {
    guard let data = line.data(using: .utf8),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return false }
    return object["event"] as? String == "hello"
  }

  /// Waits until the console log contains `marker`.
  /// - Throws: `VMError` quoting the console's last lines when QEMU exits or time runs out.
  package func waitForConsole(containing marker: String, timeout: Duration) throws {
    let deadline = ContinuousClock.now + timeout
    while true {
      if consoleText().contains(marker) { return }
      if !isRunning {
        if consoleText().contains(marker) { return }
        throw failure("exited before its console showed '\(marker)'", timeout: timeout)
      }
      if ContinuousClock.now >= deadline {
        throw failure("did not show '\(marker)' on its console within \(timeout)", timeout: timeout)
      }
      usleep(50_000)
    }
  }

  /// The whole console log so far (empty when none).
  package func consoleText() -> String {
    guard let data = FileManager.default.contents(atPath: consoleLogPath) else { return "" }
    return String(decoding: data, as: UTF8.self)
  }

  /// The last `count` non-empty console lines.
  package func consoleTail(_ count: Int = 15) -> [String] {
    let lines = Self.stripTerminalControls(consoleText())
      .split(whereSeparator: { $0 == "\n" || $0 == "\r" })
      .map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    return Array(lines.suffix(count))
  }

  /// Removes the escape sequences the firmware writes (`ESC c`, `ESC [ 2 J`, …) and other
  /// control characters except newlines, so quoted console lines read cleanly.
  package static func stripTerminalControls(_ text: String) -> String {
    var result = ""
    var iterator = text.unicodeScalars.makeIterator()
    while let scalar = iterator.next() {
      if scalar == "\u{1B}" {
        guard let next = iterator.next() else { break }
        if next == "[" {
          // CSI: parameters and intermediates up to a final byte in @...~.
          while let c = iterator.next(), !(c.value >= 0x40 && c.value <= 0x7E) {}
        }
        continue
      }
      if scalar == "\n" || scalar == "\t" || scalar.value >= 0x20 && scalar.value != 0x7F {
        result.unicodeScalars.append(scalar)
      } else if scalar == "\r" {
        result.unicodeScalars.append("\n")
      }
    }
    return result
  }

  /// The vCPU threads, from the `CPU <n>/TCG` or `CPU <n>/KVM` names QEMU gives them.
  package func vcpuThreads(procRoot: String = "/proc") -> [VCPUThread] {
    Self.vcpuThreads(pid: pid, procRoot: procRoot)
  }

  /// The vCPU threads of QEMU process `pid`, ordered by vCPU number.
  package static func vcpuThreads(pid: Int32, procRoot: String = "/proc") -> [VCPUThread] {
    let taskDir = "\(procRoot)/\(pid)/task"
    let tids = (try? FileManager.default.contentsOfDirectory(atPath: taskDir)) ?? []
    var result: [VCPUThread] = []
    for tid in tids {
      guard let id = Int32(tid),
        let comm = try? String(contentsOfFile: "\(taskDir)/\(tid)/comm", encoding: .utf8)
      else { continue }
      if let index = vcpuIndex(threadName: comm.trimmingCharacters(in: .whitespacesAndNewlines)) {
        result.append(VCPUThread(index: index, tid: id))
      }
    }
    return result.sorted { $0.index < $1.index }
  }

  /// `CPU 3/TCG` or `CPU 3/KVM` → 3; any other thread name → nil.
  package static func vcpuIndex(threadName: String) -> Int? {
    guard threadName.hasPrefix("CPU "), let slash = threadName.firstIndex(of: "/") else {
      return nil
    }
    let accel = threadName[threadName.index(after: slash)...]
    guard accel == "TCG" || accel == "KVM" else { return nil }
    return Int(threadName[threadName.index(threadName.startIndex, offsetBy: 4)..<slash])
  }

  /// Copies the console log to `path` (for the results store).
  package func copyConsoleLog(to path: String) throws {
    let data = FileManager.default.contents(atPath: consoleLogPath) ?? Data()
    try data.write(to: URL(fileURLWithPath: path), options: .atomic)
  }

  /// Ends the guest and removes its folder; safe to call more than once.
  ///
  /// Closes the agent channel (the agent exits, init powers off, QEMU exits), waits `grace`,
  /// then sends SIGTERM and waits two seconds, then SIGKILL.
  /// - Parameter keepConsoleAt: when given, the console log is copied there first.
  /// - Returns: how QEMU ended.
  @discardableResult
  package func shutdown(grace: Duration = .seconds(5), keepConsoleAt: String? = nil)
    -> GuestShutdown
  {
    if let keepConsoleAt { try? copyConsoleLog(to: keepConsoleAt) }
    return finish(grace: grace)
  }

  private func finish(grace: Duration) -> GuestShutdown {
    let (alreadyFinished, channel) = state.withLock { state in
      let result = (state.finished, state.channel)
      state.finished = true
      state.channel = nil
      return result
    }
    if alreadyFinished { return .alreadyExited }
    if let channel { close(channel) }
    var outcome = GuestShutdown.alreadyExited
    if isRunning {
      if waitForExit(within: grace) {
        outcome = .poweredOff
      } else {
        kill(pid, SIGTERM)
        if waitForExit(within: .seconds(2)) {
          outcome = .terminated
        } else {
          kill(pid, SIGKILL)
          _ = waitForExit(within: .seconds(10))
          outcome = .killed
        }
      }
    }
    try? FileManager.default.removeItem(atPath: directory)
    QEMUGuestRegistry.shared.unregister(pid: pid)
    return outcome
  }

  private func waitForExit(within limit: Duration) -> Bool {
    let deadline = ContinuousClock.now + limit
    while isRunning {
      if ContinuousClock.now >= deadline { return false }
      usleep(20_000)
    }
    return true
  }

  private func connectChannel(deadline: ContinuousClock.Instant, timeout: Duration) throws -> Int32
  {
    if let fd = state.withLock({ $0.channel }) { return fd }
    while true {
      let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else {
        throw VMError("Cannot create a unix socket: \(String(cString: strerror(errno))).")
      }
      var address = sockaddr_un()
      address.sun_family = sa_family_t(AF_UNIX)
      let path = Array(agentSocketPath.utf8)
      withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, byte) in path.prefix(raw.count - 1).enumerated() { raw[i] = byte }
      }
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
      }
      if connected == 0 {
        state.withLock { $0.channel = fd }
        return fd
      }
      close(fd)
      if !isRunning {
        throw failure("exited before its agent socket could be connected", timeout: timeout)
      }
      if ContinuousClock.now >= deadline {
        throw failure("never opened its agent socket \(agentSocketPath)", timeout: timeout)
      }
      usleep(20_000)
    }
  }

  private func failure(_ what: String, timeout: Duration) -> VMError {
    var text =
      "Guest \(configuration.name) (QEMU pid \(pid), \(configuration.accelerator.rawValue)) "
    text += what + "."
    let qemuLog = (try? String(contentsOfFile: qemuLogPath, encoding: .utf8)) ?? ""
    let qemuLines = qemuLog.split(separator: "\n").suffix(5)
    if !qemuLines.isEmpty {
      text += " QEMU said:\n  " + qemuLines.joined(separator: "\n  ")
    }
    let tail = consoleTail()
    if tail.isEmpty {
      text += "\nThe console stayed empty."
    } else {
      text += "\nLast console lines:\n  " + tail.joined(separator: "\n  ")
    }
    text += "\nCheck the kernel (--kernel) and the memory, or raise --timeout."
    return VMError(text)
  }

  /// Starts `executable` with stdin from /dev/null and stdout/stderr into `logPath`.
  private static func spawn(_ executable: String, _ arguments: [String], logPath: String) throws
    -> Int32
  {
    let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
    let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    defer {
      if input >= 0 { close(input) }
      if log >= 0 { close(log) }
    }
    guard input >= 0, log >= 0 else {
      throw VMError("Cannot open '\(logPath)' for QEMU's log: \(String(cString: strerror(errno))).")
    }
    // The kernel kills QEMU when pvbench ends by any means (SIGKILL included), so no guest
    // outlives its run; a normal end shuts the guest down first (`shutdown`).
    let spawned = ParentBoundSpawn.spawn(
      executable, arguments: arguments,
      environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" },
      descriptors: [(input, 0), (log, 1), (log, 2)], newGroup: false, deathSignal: SIGKILL)
    let pid: pid_t
    switch spawned {
    case .success(let child): pid = child
    case .failure(let failure):
      throw VMError("Cannot start '\(executable)': \(String(cString: strerror(failure.errno))).")
    }
    return pid
  }
}
