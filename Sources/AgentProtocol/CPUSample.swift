import LinuxHost

/// One `samples` event: a /proc/stat reading as the agent sends it and the controller reads it.
///
/// The event's only encoder and decoder, so that agent and controller cannot drift apart:
/// `{"cpus":{"0":[…],…},"event":"samples","monotonic_ns":…,"total":[…]}` with cumulative
/// USER_HZ ticks in `fieldNames` order. `total` is the aggregate `cpu` line, which the kernel
/// sums over every possible CPU: it keeps growing when a CPU goes offline, where a sum of the
/// per-CPU arrays would drop by that CPU's whole history.
package struct CPUSample: Sendable, Equatable {
  /// When /proc/stat was read (the agent's CLOCK_MONOTONIC, ns).
  package var monotonicNanoseconds: UInt64
  /// The aggregate line.
  package var total: CPUTimes
  /// One entry per online CPU.
  package var perCPU: [Int: CPUTimes]

  /// The event's name.
  package static let eventName = AgentEventName.samples

  /// The order of the counters in every array of the event.
  package static let fieldNames: JSON = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
  ]

  /// Memberwise.
  package init(monotonicNanoseconds: UInt64, total: CPUTimes, perCPU: [Int: CPUTimes]) {
    self.monotonicNanoseconds = monotonicNanoseconds
    self.total = total
    self.perCPU = perCPU
  }

  /// The sample of one /proc/stat reading.
  package init(_ snapshot: ProcStatSnapshot) {
    self.init(
      monotonicNanoseconds: snapshot.monotonicNanoseconds, total: snapshot.total,
      perCPU: snapshot.cpus)
  }

  /// Decodes a `samples` event; nil when it is not one or lacks `monotonic_ns` or `cpus`.
  ///
  /// A CPU whose array has fewer than 8 integers is left out. An agent older than the `total`
  /// member gets the sum of its per-CPU arrays instead, the best it can say.
  package init?(event json: JSON) {
    guard json["event"]?.stringValue == Self.eventName.rawValue,
      let time = json["monotonic_ns"]?.intValue, time >= 0,
      let cpus = json["cpus"]?.objectValue
    else { return nil }
    var perCPU: [Int: CPUTimes] = [:]
    for (key, value) in cpus {
      guard let cpu = Int(key), let times = Self.times(value) else { continue }
      perCPU[cpu] = times
    }
    let total = json["total"].flatMap(Self.times) ?? perCPU.values.reduce(CPUTimes(), +)
    self.init(monotonicNanoseconds: UInt64(time), total: total, perCPU: perCPU)
  }

  /// The event as a JSON tree (`AgentProtocol.event(CPUSample.eventName, sample.members)`
  /// is the same text as `eventLine`).
  package var members: [String: JSON] {
    var cpus: [String: JSON] = [:]
    for (cpu, times) in perCPU { cpus[String(cpu)] = Self.array(times) }
    return [
      "cpus": .object(cpus), "monotonic_ns": .int(Int64(clamping: monotonicNanoseconds)),
      "total": Self.array(total),
    ]
  }

  /// The event line, written straight to bytes without a JSON tree: on a 720-CPU LPAR this
  /// is the agent's whole steady-state cost. Same text as the tree's serialization (keys
  /// sorted as strings, so CPU 10 comes before CPU 2).
  package var eventLine: String {
    var out: [UInt8] = []
    out.reserveCapacity(64 + perCPU.count * 64)
    func append(_ text: String) { out.append(contentsOf: text.utf8) }
    func append(_ times: CPUTimes) {
      out.append(UInt8(ascii: "["))
      for (index, value) in Self.counters(times).enumerated() {
        if index > 0 { out.append(UInt8(ascii: ",")) }
        append(String(min(value, UInt64(Int64.max))))
      }
      out.append(UInt8(ascii: "]"))
    }
    append(#"{"cpus":{"#)
    let keys = perCPU.keys.map { (cpu: $0, key: String($0)) }.sorted { $0.key < $1.key }
    for (index, entry) in keys.enumerated() {
      if index > 0 { out.append(UInt8(ascii: ",")) }
      append("\"\(entry.key)\":")
      append(perCPU[entry.cpu]!)
    }
    append(#"},"event":"samples","monotonic_ns":"#)
    append(String(min(monotonicNanoseconds, UInt64(Int64.max))))
    append(#","total":"#)
    append(total)
    out.append(UInt8(ascii: "}"))
    return String(decoding: out, as: UTF8.self)
  }

  private static func counters(_ times: CPUTimes) -> [UInt64] {
    [
      times.user, times.nice, times.system, times.idle, times.iowait, times.irq, times.softirq,
      times.steal,
    ]
  }

  private static func array(_ times: CPUTimes) -> JSON {
    .array(counters(times).map { .int(Int64(clamping: $0)) })
  }

  private static func times(_ json: JSON) -> CPUTimes? {
    // Later counters (guest, guest_nice) would be extra members: ignored, not an error.
    guard let values = json.arrayValue?.compactMap(\.intValue), values.count >= 8 else {
      return nil
    }
    let u = values.prefix(8).map { UInt64(max(0, $0)) }
    return CPUTimes(
      user: u[0], nice: u[1], system: u[2], idle: u[3], iowait: u[4], irq: u[5], softirq: u[6],
      steal: u[7])
  }
}
