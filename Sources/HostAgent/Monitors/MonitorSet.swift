import AgentProtocol
import CPVBenchShims
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// The agent's periodic monitors: the /proc/stat sampler and the kernel log watch.
///
/// Each runs on its own OS thread and emits events through the server.
package final class MonitorSet: @unchecked Sendable {
  package let paths: HostPaths
  private let lock = NSLock()
  private var samplerStop: StopFlag?
  private var kmsgStop: StopFlag?

  /// Monitors for the host under `paths`.
  package init(paths: HostPaths) { self.paths = paths }

  /// Starts emitting `samples` events every `interval_ms` (default 1000, at least 10).
  ///
  /// Each event is a `CPUSample` (its `eventLine`): cumulative USER_HZ ticks of the
  /// aggregate line and of each online CPU. A reading that fails (the file is unreadable or
  /// malformed) sends no event rather than a wrong one. With each sample the sampler also
  /// reads `/sys/devices/system/cpu/preferred` when the file exists, and sends a
  /// `preferred` event (`PreferredEvent`) when its text differs from the last one sent.
  package func startSampling(params: JSON, emitLine: @escaping @Sendable (String) -> Void)
    throws(AgentError) -> JSON
  {
    let interval = params["interval_ms"]?.intValue ?? 1000
    guard interval >= 10 && interval <= 3_600_000 else {
      throw AgentError(
        code: .badParams, message: "\"interval_ms\" must be 10…3600000; got \(interval).")
    }
    stopSampling()
    let flag = StopFlag()
    lock.lock()
    samplerStop = flag
    lock.unlock()
    let procRoot = paths.resolve("/proc")
    let paths = paths
    let intervalNs = UInt64(interval) * 1_000_000
    let thread = Thread {
      var next = pvb_monotonic_ns()
      var lastPreferred: String?
      while !flag.isStopped {
        if let snapshot = try? ProcStatSnapshot.read(procRoot: procRoot) {
          emitLine(CPUSample(snapshot).eventLine)
        }
        if let text = paths.readTrimmed(HostPaths.preferred), text != lastPreferred,
          let cpus = CPUSet(parsing: text)
        {
          lastPreferred = text
          emitLine(PreferredEvent(monotonicNanoseconds: pvb_monotonic_ns(), cpus: cpus).eventLine)
        }
        next += intervalNs
        // Sleep in slices so stop is prompt; skip missed ticks rather than bursting.
        while !flag.isStopped {
          let current = pvb_monotonic_ns()
          if current >= next { break }
          pvb_sleep_ns(min(next - current, 50_000_000))
        }
        if pvb_monotonic_ns() > next + intervalNs { next = pvb_monotonic_ns() }
      }
      flag.markDone()
    }
    thread.name = "pvbench-sampler"
    thread.start()
    return ["interval_ms": .int(interval), "fields": CPUSample.fieldNames]
  }

  /// Stops the sampler (no error when none runs).
  @discardableResult
  package func stopSampling() -> JSON {
    lock.lock()
    let flag = samplerStop
    samplerStop = nil
    lock.unlock()
    flag?.stopAndWait()
    return ["stopped": .bool(flag != nil)]
  }

  /// Watches the kernel log from its current end and emits `kernel-warning` events.
  ///
  /// Reads `/dev/kmsg` under the root (params `path` may name another file under the root,
  /// for tests). Lines with `WARNING:`, `Oops` or `BUG:` become events.
  package func watchKernelLog(
    params: JSON, emit: @escaping @Sendable (AgentEventName, [String: JSON]) -> Void
  )
    throws(AgentError) -> JSON
  {
    let hostPath = params["path"]?.stringValue ?? "/dev/kmsg"
    let file = paths.resolve(hostPath)
    let fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    if fd < 0 {
      throw AgentError(
        code: .unsupported,
        message:
          "Cannot read the kernel log \(file): \(String(cString: strerror(errno))); run the agent as root."
      )
    }
    lseek(fd, 0, SEEK_END)
    lock.lock()
    let old = kmsgStop
    let flag = StopFlag()
    kmsgStop = flag
    lock.unlock()
    old?.stopAndWait()
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 8192)
      var pending: [UInt8] = []
      while !flag.isStopped {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
          pending.append(contentsOf: buffer[0..<count])
          // /dev/kmsg returns one record per read; a plain file returns lines.
          if pending.last != UInt8(ascii: "\n") && hostPath == "/dev/kmsg" {
            pending.append(UInt8(ascii: "\n"))
          }
          while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            if let message = KernelLog.warning(in: line) {
              emit(
                .kernelWarning,
                ["message": .string(message), "monotonic_ns": .int(Int64(pvb_monotonic_ns()))])
            }
          }
        } else if count < 0 && errno == EPIPE {
          continue  // /dev/kmsg: records were overwritten before we read them.
        } else {
          var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
          if poll(&pfd, 1, 200) <= 0 || count == 0 { pvb_sleep_ns(200_000_000) }
        }
      }
      close(fd)
      flag.markDone()
    }
    thread.name = "pvbench-kmsg"
    thread.start()
    return ["path": .string(hostPath)]
  }

  /// Stops every monitor.
  package func stopAll() {
    stopSampling()
    lock.lock()
    let flag = kmsgStop
    kmsgStop = nil
    lock.unlock()
    flag?.stopAndWait()
  }
}

/// Recognises kernel warnings in /dev/kmsg records or plain log lines.
package enum KernelLog {
  /// The message of a record that reports a WARN, Oops or BUG; nil otherwise.
  package static func warning(in line: String) -> String? {
    var message = Substring(line)
    // A /dev/kmsg record is "prio,seq,usec,flags;message".
    if let semicolon = line.firstIndex(of: ";"), line[..<semicolon].contains(",") {
      message = line[line.index(after: semicolon)...]
    }
    for marker in ["WARNING:", "Oops", "BUG:"] where message.contains(marker) {
      return String(message)
    }
    return nil
  }
}
