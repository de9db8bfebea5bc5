import LinuxHost
import Results

extension CPUSampleRow {
  /// The row for `host`'s counters `times` of `cpu` at `time` (ns since the cell started).
  init(time: UInt64, host: String, cpu: CPU, _ times: CPUTimes) {
    self.init(
      timeNanoseconds: time, host: host, cpu: cpu, user: times.user, nice: times.nice,
      system: times.system, idle: times.idle, iowait: times.iowait, irq: times.irq,
      softirq: times.softirq, steal: times.steal)
  }
}
