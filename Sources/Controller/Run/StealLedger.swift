import Foundation
import LinuxHost

/// The CPU samples of every host of one cell, and the steal and busy shares worked out
/// from them: a host's own `/proc/stat` counters, and the host-side steal of a qemu
/// guest's vCPU threads.
///
/// Times are nanoseconds since the cell started, as the recorder stores them.
package final class StealLedger: @unchecked Sendable {
  private let lock = NSLock()
  private var cpuSamples: [String: [(time: UInt64, total: CPUTimes)]] = [:]
  /// Host-side steal samples of each qemu guest, by host name.
  private var hostSteal: [String: [(time: UInt64, percent: Double)]] = [:]

  package init() {}

  private func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  /// Adds `host`'s aggregate `/proc/stat` counters at `time`.
  package func addCPUSample(host: String, time: UInt64, total: CPUTimes) {
    locked { cpuSamples[host, default: []].append((time, total)) }
  }

  /// Adds `host`'s host-side steal (mean run-queue wait of its vCPU threads) at `time`.
  package func addHostSteal(host: String, time: UInt64, percent: Double) {
    locked { hostSteal[host, default: []].append((time, percent)) }
  }

  /// Steal and busy % of `host` between two times, from its `/proc/stat` samples: the
  /// last sample at or before `from` (else the first) to the first at or after `to`
  /// (else the last). Nil without two samples apart or without ticks between them.
  package func cpuShare(host: String, from: UInt64, to: UInt64) -> (steal: Double, busy: Double)? {
    let samples = locked { cpuSamples[host] ?? [] }
    guard let first = samples.last(where: { $0.time <= from }) ?? samples.first,
      let last = samples.first(where: { $0.time >= to }) ?? samples.last,
      last.time > first.time
    else { return nil }
    let delta = last.total.delta(since: first.total)
    guard delta.total > 0 else { return nil }
    return (delta.stealFraction * 100, delta.busyFraction * 100)
  }

  /// `host`'s mean host-side steal % over the samples in `(from, to]`; nil when none.
  ///
  /// Only `host`'s own vCPU threads: every guest's sampler reports to the same recorder.
  package func hostStealPercent(host: String, from: UInt64, to: UInt64) -> Double? {
    let values = locked {
      (hostSteal[host] ?? []).filter { $0.time > from && $0.time <= to }.map(\.percent)
    }
    guard !values.isEmpty else { return nil }
    return values.reduce(0, +) / Double(values.count)
  }

  /// Whether `host`'s kernel accounted any steal between its first and last sample.
  package func accountsSteal(host: String) -> Bool {
    let samples = locked { cpuSamples[host] ?? [] }
    guard let first = samples.first, let last = samples.last else { return false }
    return last.total.steal > first.total.steal
  }

  /// Whether any host-side steal sample of `host` arrived.
  package func hasHostSteal(host: String) -> Bool {
    locked { hostSteal[host] != nil }
  }
}
