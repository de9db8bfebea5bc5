import Foundation

/// One line of a cell's `samples.csv`: a host's `/proc/stat` counters at one moment,
/// for one CPU or for the whole host (`CellFiles.samples`).
///
/// The controller writes one row per online CPU and one aggregate row per host and
/// sample, about once a second; the report reads the aggregate rows.
package struct CPUSampleRow: CSVRow {
  /// Which counters a row holds: one CPU's (`cpuN`) or the host's aggregate (`all`).
  package enum CPU: Sendable, Hashable {
    case all
    case cpu(Int)

    /// The column's text: `all` or `cpuN`.
    package var text: String {
      switch self {
      case .all: "all"
      case .cpu(let number): "cpu\(number)"
      }
    }

    /// Parses `all` or `cpuN`; nil for anything else.
    package init?(_ text: Substring) {
      if text == "all" {
        self = .all
      } else if text.hasPrefix("cpu"), let number = Int(text.dropFirst(3)), number >= 0 {
        self = .cpu(number)
      } else {
        return nil
      }
    }
  }

  package static let columns = [
    "time_ns", "host", "cpu", "user", "nice", "system", "idle", "iowait", "irq", "softirq",
    "steal",
  ]
  package static var header: String { columns.joined(separator: ",") }

  /// Nanoseconds since the cell started.
  package var timeNanoseconds: UInt64
  package var host: String
  package var cpu: CPU
  /// The counters of `/proc/stat` (USER_HZ ticks, cumulative since boot).
  package var user: UInt64
  package var nice: UInt64
  package var system: UInt64
  package var idle: UInt64
  package var iowait: UInt64
  package var irq: UInt64
  package var softirq: UInt64
  package var steal: UInt64

  package init(
    timeNanoseconds: UInt64, host: String, cpu: CPU, user: UInt64, nice: UInt64,
    system: UInt64, idle: UInt64, iowait: UInt64, irq: UInt64, softirq: UInt64, steal: UInt64
  ) {
    self.timeNanoseconds = timeNanoseconds
    self.host = host
    self.cpu = cpu
    self.user = user
    self.nice = nice
    self.system = system
    self.idle = idle
    self.iowait = iowait
    self.irq = irq
    self.softirq = softirq
    self.steal = steal
  }

  package var line: String {
    "\(timeNanoseconds),\(host),\(cpu.text),\(user),\(nice),\(system),\(idle),\(iowait),\(irq),"
      + "\(softirq),\(steal)"
  }

  package init(line: Substring) throws(CSVLineError) {
    let fields = try CSVFields(line, columns: Self.columns)
    guard let cpu = CPU(fields.fields[2]) else {
      throw .field(fields.fields[2], column: "cpu", wants: "'all' or cpuN")
    }
    self.init(
      timeNanoseconds: try fields.counter(0), host: try fields.text(1), cpu: cpu,
      user: try fields.counter(3), nice: try fields.counter(4), system: try fields.counter(5),
      idle: try fields.counter(6), iowait: try fields.counter(7), irq: try fields.counter(8),
      softirq: try fields.counter(9), steal: try fields.counter(10))
  }
}
