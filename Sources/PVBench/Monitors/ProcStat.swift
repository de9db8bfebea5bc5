/// One per-CPU line of /proc/stat in USER_HZ ticks.
struct ProcStatRow: Sendable, Hashable {
  var cpu: Int
  var user: Int64 = 0
  var nice: Int64 = 0
  var system: Int64 = 0
  var idle: Int64 = 0
  var iowait: Int64 = 0
  var irq: Int64 = 0
  var softirq: Int64 = 0
  var steal: Int64 = 0
  /// True when the line had the steal column.
  var hasSteal = false

  /// user..steal, the order samples carry.
  var fields: [Int64] { [user, nice, system, idle, iowait, irq, softirq, steal] }

  /// All ticks user..steal.
  var total: Int64 { fields.reduce(0, +) }

  /// Ticks not idle and not waiting for I/O.
  var busy: Int64 { total - idle - iowait }
}

/// Parses /proc/stat per-CPU lines.
enum ProcStat {
  /// The `cpuN` lines of a /proc/stat text (the aggregate `cpu` line is skipped).
  static func parse(_ text: String) -> [ProcStatRow] {
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
