/// One per-interval (non-cumulative) snapshot of a running schbench-equivalent.
public struct SchbenchInterval: Codable, Sendable {
  /// 0, 1, 2, … in the order the snapshots were taken.
  public var index: Int
  /// The interval of the run's clock this snapshot starts in: slot `k` is
  /// `[t0 + k·I, t0 + (k+1)·I)` with `t0` the end of the warmup (negative during it) and `I`
  /// the stream interval. Consecutive snapshots have consecutive slots unless one was late.
  public var slot: Int
  /// Whole intervals inside this snapshot's span that had no snapshot of their own because
  /// the snapshot thread woke too late (starved): gaps, counted, never silently dropped.
  /// The next snapshot's slot is `slot + 1 + missedIntervals`.
  public var missedIntervals: Int
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

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case index = "index"
    case slot = "slot"
    case missedIntervals = "missedIntervals"
    case startMonotonicNanoseconds = "startMonotonicNanoseconds"
    case endMonotonicNanoseconds = "endMonotonicNanoseconds"
    case wakeup = "wakeup"
    case request = "request"
    case requests = "requests"
    case rps = "rps"
    case warmup = "warmup"
  }
}
