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
  /// Each event: `{"event":"samples","monotonic_ns":…,"fields":[…],"cpus":{"0":[…],…}}`
  /// with cumulative USER_HZ ticks user, nice, system, idle, iowait, irq, softirq, steal.
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
    let reader = ProcStatReader(path: paths.resolve("/proc/stat"))
    let intervalNs = UInt64(interval) * 1_000_000
    let thread = Thread {
      var next = pvb_monotonic_ns()
      while !flag.isStopped {
        let now = pvb_monotonic_ns()
        if let line = reader.sampleEventLine(monotonicNs: now) { emitLine(line) }
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
    return ["interval_ms": .int(interval), "fields": ProcStatReader.fieldNames]
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
    params: JSON, emit: @escaping @Sendable (String, [String: JSON]) -> Void
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
                "kernel-warning",
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

/// Reads /proc/stat with one read into a reused buffer (the sampler's hot path).
package final class ProcStatReader: @unchecked Sendable {
  private let path: String
  private var buffer = [UInt8](repeating: 0, count: 1 << 16)

  /// The field order of every sample array.
  package static let fieldNames: JSON = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
  ]

  /// A reader of the file at `path` (already resolved under the root).
  package init(path: String) { self.path = path }

  /// The `samples` event line for the file's contents now, built straight from the bytes.
  ///
  /// Same text as `AgentProtocol.event("samples", …)` (keys sorted), without building a
  /// JSON tree: on a 720-CPU LPAR this is the agent's whole steady-state cost.
  package func sampleEventLine(monotonicNs: UInt64) -> String? {
    guard let length = fill() else { return nil }
    var out = [UInt8]()
    out.reserveCapacity(length + 64)
    out.append(contentsOf: Array(#"{"cpus":{"#.utf8))
    var first = true
    buffer.withUnsafeBufferPointer { bytes in
      var index = 0
      while index < length {
        // A line "cpuN v v v …"; the aggregate "cpu " line and others are skipped.
        let isCPU =
          index + 3 < length && bytes[index] == 0x63 && bytes[index + 1] == 0x70
          && bytes[index + 2] == 0x75 && bytes[index + 3] >= 0x30 && bytes[index + 3] <= 0x39
        if isCPU {
          var cursor = index + 3
          if !first { out.append(0x2C) }
          first = false
          out.append(0x22)
          while cursor < length && bytes[cursor] != 0x20 {
            out.append(bytes[cursor])
            cursor += 1
          }
          out.append(contentsOf: [0x22, 0x3A, 0x5B])
          var fields = 0
          while fields < 8 {
            while cursor < length && bytes[cursor] == 0x20 { cursor += 1 }
            if cursor >= length || bytes[cursor] == 0x0A { break }
            if fields > 0 { out.append(0x2C) }
            while cursor < length && bytes[cursor] >= 0x30 && bytes[cursor] <= 0x39 {
              out.append(bytes[cursor])
              cursor += 1
            }
            fields += 1
          }
          while fields < 8 {
            out.append(contentsOf: fields > 0 ? [0x2C, 0x30] : [0x30])
            fields += 1
          }
          out.append(0x5D)
          index = cursor
        }
        while index < length && bytes[index] != 0x0A { index += 1 }
        index += 1
      }
    }
    out.append(contentsOf: Array(#"},"event":"samples","monotonic_ns":\#(monotonicNs)}"#.utf8))
    return String(decoding: out, as: UTF8.self)
  }

  /// Reads the whole file into the buffer; returns its length, or nil when unreadable.
  private func fill() -> Int? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var length = 0
    while true {
      if length == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
      let count = buffer.withUnsafeMutableBytes {
        Glibc.read(fd, $0.baseAddress! + length, $0.count - length)
      }
      if count > 0 {
        length += count
      } else if count < 0 && errno == EINTR {
        continue
      } else {
        break
      }
    }
    return length
  }

  /// The per-CPU rows now, or nil when the file cannot be read.
  package func read() -> [ProcStatRow]? {
    guard let length = fill() else { return nil }
    return ProcStat.parse(String(decoding: buffer[0..<length], as: UTF8.self))
  }
}
