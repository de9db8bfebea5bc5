import LinuxHost

/// One `preferred` event: the kernel's preferred CPUs (`/sys/devices/system/cpu/preferred`)
/// changed, as the sampler saw it (protocol 1.2; docs/agent-protocol.md).
///
/// `{"cpus":"0-5","event":"preferred","monotonic_ns":…}`. The sampler reads the file with
/// every `samples` event and sends this one when the text differs from the last it sent,
/// the first reading included; a host without the file sends none.
package struct PreferredEvent: Sendable, Equatable {
  /// When the file was read (the agent's CLOCK_MONOTONIC, ns).
  package var monotonicNanoseconds: UInt64
  /// The preferred CPUs.
  package var cpus: CPUSet

  /// Memberwise.
  package init(monotonicNanoseconds: UInt64, cpus: CPUSet) {
    self.monotonicNanoseconds = monotonicNanoseconds
    self.cpus = cpus
  }

  /// Decodes a `preferred` event; nil when it is not one or its members do not read.
  package init?(event json: JSON) {
    guard json["event"]?.stringValue == AgentEventName.preferred.rawValue,
      let time = json["monotonic_ns"]?.intValue, time >= 0,
      let text = json["cpus"]?.stringValue, let cpus = CPUSet(parsing: text)
    else { return nil }
    self.init(monotonicNanoseconds: UInt64(time), cpus: cpus)
  }

  /// The event line.
  package var eventLine: String {
    AgentProtocol.event(
      .preferred,
      ["cpus": .string(cpus.description), "monotonic_ns": .int(Int64(monotonicNanoseconds))])
  }
}

/// The `sched` member of a `workload-done` event (protocol 1.2): the kernel's per-thread
/// counters of the workload's message threads and workers, read from their
/// `/proc/PID/task/TID/sched` files when the run ended, before the threads exited.
///
/// `{"threads":5,"read":5,"nr_migrations_cpu_non_preferred":12,"schedstats":1}`:
/// `nr_migrations_cpu_non_preferred` is the sum over the threads whose file prints it, and
/// `null` when none does (schedstats off, or a kernel without the series); `schedstats`
/// is `/proc/sys/kernel/sched_schedstats`, `null` when the file is missing.
package struct WorkloadSchedCounters: Sendable, Equatable {
  /// The workload's threads (message threads and workers).
  package var threads: Int
  /// The threads whose `sched` file could be read.
  package var read: Int
  /// The push counter summed over the threads; nil when no thread's file has it.
  package var nonPreferredMigrations: Int64?
  /// Whether the kernel keeps schedstats; nil when the switch is missing.
  package var schedstats: Bool?

  /// Memberwise.
  package init(threads: Int, read: Int, nonPreferredMigrations: Int64?, schedstats: Bool?) {
    self.threads = threads
    self.read = read
    self.nonPreferredMigrations = nonPreferredMigrations
    self.schedstats = schedstats
  }

  /// Reads the counters: `file(index, tid)` is where thread `index` (of `tids`, in order)
  /// keeps its `sched` file, `switchFile` the schedstats switch.
  package init(tids: [Int32], file: (Int, Int32) -> String, switchFile: String) {
    var read = 0
    var sum: Int64?
    for (index, tid) in tids.enumerated() {
      guard let sched = ProcSched.read(path: file(index, tid)) else { continue }
      read += 1
      if let count = sched.nonPreferredMigrations { sum = (sum ?? 0) + count }
    }
    let value = ProcSched.readSwitch(path: switchFile)
    self.init(threads: tids.count, read: read, nonPreferredMigrations: sum, schedstats: value)
  }

  /// The member as sent.
  package var json: JSON {
    [
      "threads": .int(Int64(threads)), "read": .int(Int64(read)),
      "nr_migrations_cpu_non_preferred": nonPreferredMigrations.map(JSON.int) ?? .null,
      "schedstats": schedstats.map { .int($0 ? 1 : 0) } ?? .null,
    ]
  }

  /// Decodes the member; nil when it is absent (a 1.1 agent) or malformed.
  package init?(json: JSON?) {
    guard let json, let threads = json["threads"]?.intValue, let read = json["read"]?.intValue
    else { return nil }
    self.init(
      threads: Int(threads), read: Int(read),
      nonPreferredMigrations: json["nr_migrations_cpu_non_preferred"]?.intValue,
      schedstats: json["schedstats"]?.intValue.map { $0 != 0 })
  }
}
