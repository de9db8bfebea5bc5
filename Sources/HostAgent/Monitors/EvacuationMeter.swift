import CPVBenchShims
import Foundation
import LinuxHost

/// Measures how long CPUs take to fall below a busy threshold after a mode change.
package struct EvacuationMeter: Sendable {
  /// Reads /proc/stat (a seam: tests feed a sequence of texts).
  package let readStat: @Sendable () -> String?

  /// A meter reading /proc/stat under `paths`.
  package init(paths: HostPaths) { readStat = { paths.read("/proc/stat") } }

  /// A meter reading /proc/stat texts from `readStat`.
  package init(readStat: @escaping @Sendable () -> String?) { self.readStat = readStat }

  /// The measurement.
  package struct Outcome: Sendable {
    /// From `start` to the end of the first window in which every CPU was under the
    /// threshold; nil on timeout.
    package var milliseconds: Double?
    /// Busy % of each CPU in the last window (CPUs gone offline are absent).
    package var lastBusyPercent: [Int: Double]
  }

  /// The counters now; nil when /proc/stat cannot be read or is malformed.
  package func read() -> ProcStatSnapshot? {
    guard let text = readStat() else { return nil }
    return try? ProcStatSnapshot(parsing: text, monotonicNanoseconds: monotonicNow())
  }

  /// Polls /proc/stat every `window` until every CPU of `cpus` is under `thresholdPercent` busy.
  ///
  /// Busy is `Δ(user..steal − idle − iowait) / Δ(user..steal)`. A CPU that went offline, or
  /// that accrued no ticks in a window, counts as evacuated. The first window starts from
  /// `baseline` (read just before the apply), so the result is an upper bound with the
  /// window as its resolution. A reading that fails proves nothing: that window does not
  /// count, and the next one starts from the last good reading (or from that one, when the
  /// baseline failed).
  package func measure(
    cpus: [Int], baseline: ProcStatSnapshot?, start: UInt64, timeout: Duration,
    window: Duration, thresholdPercent: Double = 5
  ) -> Outcome {
    let watched = Set(cpus)
    var previous = baseline
    let deadline = start + timeout.nanosecondsClamped
    let windowNanoseconds = window.nanosecondsClamped
    var last: [Int: Double] = [:]
    while true {
      pvb_sleep_ns(max(windowNanoseconds, 10_000_000))
      let current = read()
      if let current, let previous {
        var allBelow = true
        last = [:]
        for (cpu, delta) in current.cpuDeltas(since: previous) where watched.contains(cpu) {
          let busy = delta.total > 0 ? 100 * Double(delta.busy) / Double(delta.total) : 0
          last[cpu] = busy
          if busy >= thresholdPercent { allBelow = false }
        }
        let now = pvb_monotonic_ns()
        if allBelow {
          return Outcome(milliseconds: Double(now - start) / 1e6, lastBusyPercent: last)
        }
      }
      previous = current ?? previous
      if pvb_monotonic_ns() >= deadline {
        return Outcome(milliseconds: nil, lastBusyPercent: last)
      }
    }
  }
}
