/// One per-interval (non-cumulative) snapshot of a running schbench-equivalent.
public struct SchbenchInterval: Codable, Sendable {
  /// 0, 1, 2, … in the order the snapshots were taken.
  public var index: Int
  /// When the interval began (CLOCK_MONOTONIC, ns).
  public var startMonotonicNanoseconds: UInt64
  /// When the interval ended (CLOCK_MONOTONIC, ns).
  public var endMonotonicNanoseconds: UInt64
  /// Wakeup latencies recorded in this interval only, ns.
  public var wakeup: LatencyHistogram
  /// Request latencies recorded in this interval only, ns.
  public var request: LatencyHistogram
  /// Requests completed in this interval.
  public var requests: UInt64
  /// `requests` divided by the interval's length in seconds.
  public var rps: Double
  /// True while the `-w` warmup lasts (these samples are not in the totals).
  public var warmup: Bool
}
