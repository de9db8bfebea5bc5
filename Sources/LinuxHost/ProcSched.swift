import Foundation

/// The scheduler's per-task counters of `/proc/PID/sched` (and `/proc/PID/task/TID/sched`):
/// `name : value` lines after a header, as `proc_sched_show_task` prints them.
///
/// The one parser of the format. pvbench reads one counter from it:
/// `nr_migrations_cpu_non_preferred`, the tasks the kernel pushed off a non-preferred CPU
/// (the preferred-CPU series, counted on its tick-push path only). The kernel prints the
/// schedstat counters only while schedstats are on (`/proc/sys/kernel/sched_schedstats`
/// 1), so a missing counter means "off, or a kernel without the series", never zero.
package struct ProcSched: Sendable, Equatable {
  /// Every `name : value` line whose value is a whole number, by name.
  package var counters: [String: Int64]

  /// The series' push counter.
  package static let nonPreferredMigrations = "nr_migrations_cpu_non_preferred"

  /// Parses the text of a `sched` file. The header (`comm (pid, #threads: n)`), the rule
  /// under it and any value that is not a whole number (`se.vruntime : 12.345678`) are
  /// skipped, so a kernel adding lines still parses.
  package init(parsing text: String) {
    var counters: [String: Int64] = [:]
    for line in text.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let name = line[..<colon].trimmingCharacters(in: .whitespaces)
      let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      guard !name.isEmpty, !name.contains(" "), let number = Int64(value) else { continue }
      counters[name] = number
    }
    self.counters = counters
  }

  /// `nr_migrations_cpu_non_preferred`, or nil when the kernel did not print it.
  package var nonPreferredMigrations: Int64? { counters[Self.nonPreferredMigrations] }

  /// Reads the file at `path`; nil when it is missing (the thread is gone).
  package static func read(path: String) -> ProcSched? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return ProcSched(parsing: String(decoding: data, as: UTF8.self))
  }

  /// The `sched` file of a process, or of one of its threads.
  package static func path(process: String, thread: Int32? = nil, procRoot: String = "/proc")
    -> String
  {
    if let thread { return "\(procRoot)/\(process)/task/\(thread)/sched" }
    return "\(procRoot)/\(process)/sched"
  }

  /// The switch that makes the kernel keep (and print) schedstat counters.
  package static let schedstatsSwitch = "/proc/sys/kernel/sched_schedstats"
}

extension ProcSched {
  /// `/proc/sys/kernel/sched_schedstats` at `path`: true when on, nil when the file is
  /// missing or does not hold a number.
  package static func readSwitch(path: String) -> Bool? {
    guard let data = FileManager.default.contents(atPath: path),
      let value = Int(
        String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    else { return nil }
    return value != 0
  }
}
