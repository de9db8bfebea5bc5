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
public struct ProcStatSnapshot: Codable, Sendable, Equatable {
  /// The aggregate line over all online CPUs.
  public var total: CPUTimes
  /// Per-CPU lines keyed by CPU number (offline CPUs have no line).
  public var cpus: [Int: CPUTimes]
  /// When it was read (CLOCK_MONOTONIC, ns); 0 for parsed text.
  public var monotonicNanoseconds: UInt64

  /// Parses the text of /proc/stat.
  /// - Throws: `HostFileError.unreadable` when there is no `cpu` line or a number is bad;
  ///   lines other than `cpu…` are ignored, and missing trailing columns (old kernels)
  ///   count as zero.
  public init(parsing text: String, monotonicNanoseconds: UInt64 = 0, path: String = "/proc/stat")
    throws
  {
    var total: CPUTimes?
    var cpus: [Int: CPUTimes] = [:]
    for (number, line) in text.split(separator: "\n").enumerated() {
      guard line.hasPrefix("cpu") else { continue }
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      let name = fields[0]
      var values: [UInt64] = []
      for field in fields.dropFirst().prefix(8) {
        guard let value = UInt64(field) else {
          throw HostFileError.unreadable(
            path: path, reason: "line \(number + 1) has '\(field)' where a number belongs")
        }
        values.append(value)
      }
      guard values.count >= 4 else {
        throw HostFileError.unreadable(
          path: path, reason: "line \(number + 1) has fewer than 4 counters")
      }
      while values.count < 8 { values.append(0) }
      let times = CPUTimes(
        user: values[0], nice: values[1], system: values[2], idle: values[3],
        iowait: values[4], irq: values[5], softirq: values[6], steal: values[7])
      if name == "cpu" {
        total = times
      } else if let cpu = Int(name.dropFirst(3)) {
        cpus[cpu] = times
      }
    }
    guard let total else {
      throw HostFileError.unreadable(path: path, reason: "it has no 'cpu' line")
    }
    self.total = total
    self.cpus = cpus
    self.monotonicNanoseconds = monotonicNanoseconds
  }

  /// Reads `<procRoot>/stat` now.
  /// - Throws: `HostFileError.unreadable` when the file is missing or malformed.
  public static func read(procRoot: String = "/proc") throws -> ProcStatSnapshot {
    let path = procRoot + "/stat"
    let time = monotonicNow()
    guard let data = FileManager.default.contents(atPath: path) else {
      throw HostFileError.unreadable(path: path, reason: "the file is missing or unreadable")
    }
    return try ProcStatSnapshot(
      parsing: String(decoding: data, as: UTF8.self), monotonicNanoseconds: time, path: path)
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
