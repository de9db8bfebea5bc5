import Foundation

/// CPU time counters of one `cpu` line of /proc/stat, in USER_HZ ticks.
public struct CPUTimes: Codable, Sendable, Equatable {
  public var user: UInt64 = 0
  public var nice: UInt64 = 0
  public var system: UInt64 = 0
  public var idle: UInt64 = 0
  public var iowait: UInt64 = 0
  public var irq: UInt64 = 0
  public var softirq: UInt64 = 0
  public var steal: UInt64 = 0

  /// Creates counters (all zero by default).
  public init(
    user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0,
    iowait: UInt64 = 0, irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0
  ) {
    self.user = user
    self.nice = nice
    self.system = system
    self.idle = idle
    self.iowait = iowait
    self.irq = irq
    self.softirq = softirq
    self.steal = steal
  }

  /// All ticks (guest time is already inside user and nice, so it is not added again).
  public var total: UInt64 { user + nice + system + idle + iowait + irq + softirq + steal }

  /// Ticks neither idle nor waiting for I/O.
  public var busy: UInt64 { total - idle - iowait }

  /// The counters of `self` minus `earlier`, clamped at zero (counters can step back
  /// slightly when a CPU goes offline and online again).
  public func delta(since earlier: CPUTimes) -> CPUTimes {
    func d(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : 0 }
    return CPUTimes(
      user: d(user, earlier.user), nice: d(nice, earlier.nice),
      system: d(system, earlier.system), idle: d(idle, earlier.idle),
      iowait: d(iowait, earlier.iowait), irq: d(irq, earlier.irq),
      softirq: d(softirq, earlier.softirq), steal: d(steal, earlier.steal))
  }

  /// `1 - (idle + iowait) / total`, or 0 when no tick passed.
  public var busyFraction: Double { total == 0 ? 0 : Double(busy) / Double(total) }

  /// `steal / total`, or 0 when no tick passed.
  public var stealFraction: Double { total == 0 ? 0 : Double(steal) / Double(total) }

  /// Adds another CPU's counters.
  public static func + (lhs: CPUTimes, rhs: CPUTimes) -> CPUTimes {
    CPUTimes(
      user: lhs.user + rhs.user, nice: lhs.nice + rhs.nice, system: lhs.system + rhs.system,
      idle: lhs.idle + rhs.idle, iowait: lhs.iowait + rhs.iowait, irq: lhs.irq + rhs.irq,
      softirq: lhs.softirq + rhs.softirq, steal: lhs.steal + rhs.steal)
  }
}

/// One reading of /proc/stat: the aggregate `cpu` line and every `cpuN` line.
///
/// The one parser of the file: the agent's sampler, the evacuation meter, the host facts and
/// the stress cycler all read it through here.
public struct ProcStatSnapshot: Codable, Sendable, Equatable {
  /// The aggregate line. The kernel sums it over every possible CPU, so unlike a sum of the
  /// `cpuN` lines it does not drop when a CPU goes offline.
  public var total: CPUTimes
  /// Per-CPU lines keyed by CPU number (offline CPUs have no line).
  public var cpus: [Int: CPUTimes]
  /// When it was read (CLOCK_MONOTONIC, ns); 0 for parsed text.
  public var monotonicNanoseconds: UInt64
  /// True when the aggregate line has the steal column (the 8th counter); kernels before
  /// 2.6.11 print fewer, and then `steal` is 0 because it is unknown, not because none
  /// was stolen.
  public var stealColumn: Bool

  /// Parses the text of /proc/stat.
  /// - Throws: `HostFileError.unreadable` when there is no `cpu` line or a number is bad;
  ///   lines other than `cpu…` are ignored, and missing trailing columns (old kernels)
  ///   count as zero.
  public init(parsing text: String, monotonicNanoseconds: UInt64 = 0, path: String = "/proc/stat")
    throws
  {
    var text = text
    self = try text.withUTF8 {
      try ProcStatSnapshot(
        parsing: UnsafeRawBufferPointer($0), monotonicNanoseconds: monotonicNanoseconds, path: path)
    }
  }

  /// Parses the bytes of /proc/stat (the sampler's path: no `String` in between).
  ///
  /// The same rules as `init(parsing:monotonicNanoseconds:path:)` for text.
  /// - Throws: `HostFileError.unreadable` when there is no `cpu` line or a number is bad.
  public init(
    parsing bytes: UnsafeRawBufferPointer, monotonicNanoseconds: UInt64 = 0,
    path: String = "/proc/stat"
  ) throws {
    let space = UInt8(ascii: " ")
    let newline = UInt8(ascii: "\n")
    var total: CPUTimes?
    var stealColumn = false
    var cpus: [Int: CPUTimes] = [:]
    var lineNumber = 0
    var index = 0
    while index < bytes.count {
      lineNumber += 1
      var end = index
      while end < bytes.count && bytes[end] != newline { end += 1 }
      defer { index = end + 1 }
      guard end - index >= 3, bytes[index] == UInt8(ascii: "c"),
        bytes[index + 1] == UInt8(ascii: "p"),
        bytes[index + 2] == UInt8(ascii: "u")
      else { continue }
      // The name: "cpu" for the aggregate, "cpuN" for one CPU; any other "cpu…" line is
      // not a CPU's.
      var cursor = index + 3
      var cpu: Int? = nil
      var isCPULine = true
      while cursor < end && bytes[cursor] != space {
        let digit = bytes[cursor] &- UInt8(ascii: "0")
        if digit >= 10 || cursor - index > 12 { isCPULine = false }
        cpu = (cpu ?? 0) &* 10 &+ Int(digit)
        cursor += 1
      }
      guard isCPULine else { continue }
      var values: [UInt64] = []
      values.reserveCapacity(8)
      while values.count < 8 {
        while cursor < end && bytes[cursor] == space { cursor += 1 }
        if cursor >= end { break }
        let start = cursor
        var value: UInt64 = 0
        var valid = true
        while cursor < end && bytes[cursor] != space {
          let digit = bytes[cursor] &- UInt8(ascii: "0")
          if digit >= 10 { valid = false }
          if valid {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(digit))
            if overflow || carry { valid = false }
            value = sum
          }
          cursor += 1
        }
        guard valid else {
          let field = String(decoding: bytes[start..<cursor], as: UTF8.self)
          throw HostFileError.unreadable(
            path: path, reason: "line \(lineNumber) has '\(field)' where a number belongs")
        }
        values.append(value)
      }
      guard values.count >= 4 else {
        throw HostFileError.unreadable(
          path: path, reason: "line \(lineNumber) has fewer than 4 counters")
      }
      let counted = values.count
      while values.count < 8 { values.append(0) }
      let times = CPUTimes(
        user: values[0], nice: values[1], system: values[2], idle: values[3],
        iowait: values[4], irq: values[5], softirq: values[6], steal: values[7])
      if let cpu {
        cpus[cpu] = times
      } else {
        total = times
        stealColumn = counted >= 8
      }
    }
    guard let total else {
      throw HostFileError.unreadable(path: path, reason: "it has no 'cpu' line")
    }
    self.total = total
    self.cpus = cpus
    self.monotonicNanoseconds = monotonicNanoseconds
    self.stealColumn = stealColumn
  }

  /// Reads `<procRoot>/stat` now.
  /// - Throws: `HostFileError.unreadable` when the file is missing or malformed.
  public static func read(procRoot: String = "/proc") throws -> ProcStatSnapshot {
    let path = procRoot + "/stat"
    let time = monotonicNow()
    guard let data = FileManager.default.contents(atPath: path) else {
      throw HostFileError.unreadable(path: path, reason: "the file is missing or unreadable")
    }
    return try data.withUnsafeBytes {
      try ProcStatSnapshot(parsing: $0, monotonicNanoseconds: time, path: path)
    }
  }

  /// The aggregate counters from `earlier` to `self`.
  public func delta(since earlier: ProcStatSnapshot) -> CPUTimes {
    total.delta(since: earlier.total)
  }

  /// Per-CPU counters from `earlier` to `self`, for CPUs present in both.
  public func cpuDeltas(since earlier: ProcStatSnapshot) -> [Int: CPUTimes] {
    var result: [Int: CPUTimes] = [:]
    for (cpu, times) in cpus {
      if let before = earlier.cpus[cpu] { result[cpu] = times.delta(since: before) }
    }
    return result
  }
}
