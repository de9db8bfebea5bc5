/// One per-CPU line of /proc/stat in USER_HZ ticks.
package struct ProcStatRow: Sendable, Hashable {
  package var cpu: Int
  package var user: Int64 = 0
  package var nice: Int64 = 0
  package var system: Int64 = 0
  package var idle: Int64 = 0
  package var iowait: Int64 = 0
  package var irq: Int64 = 0
  package var softirq: Int64 = 0
  package var steal: Int64 = 0
  /// True when the line had the steal column.
  package var hasSteal = false

  /// user..steal, the order samples carry.
  package var fields: [Int64] { [user, nice, system, idle, iowait, irq, softirq, steal] }

  /// All ticks user..steal.
  package var total: Int64 { fields.reduce(0, +) }

  /// Ticks not idle and not waiting for I/O.
  package var busy: Int64 { total - idle - iowait }
}

/// Parses /proc/stat per-CPU lines.
package enum ProcStat {
  /// The `cpuN` lines of a /proc/stat text (the aggregate `cpu` line is skipped).
  package static func parse(_ text: String) -> [ProcStatRow] {
    var rows: [ProcStatRow] = []
    for line in text.split(separator: "\n") {
      guard line.hasPrefix("cpu"), !line.hasPrefix("cpu ") else { continue }
      let parts = line.split(separator: " ")
      guard let cpu = Int(parts[0].dropFirst(3)) else { continue }
      let values = parts.dropFirst().map { Int64($0) ?? 0 }
      var row = ProcStatRow(cpu: cpu)
      func at(_ index: Int) -> Int64 { index < values.count ? values[index] : 0 }
      row.user = at(0)
      row.nice = at(1)
      row.system = at(2)
      row.idle = at(3)
      row.iowait = at(4)
      row.irq = at(5)
      row.softirq = at(6)
      row.steal = at(7)
      row.hasSteal = values.count >= 8
      rows.append(row)
    }
    return rows
  }
}
