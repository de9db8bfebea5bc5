import CPVBenchShims

/// CLOCK_MONOTONIC now, in nanoseconds.
@inline(__always)
public func monotonicNow() -> UInt64 { pvb_monotonic_ns() }

/// CLOCK_REALTIME now, in nanoseconds since the epoch.
@inline(__always)
public func wallNow() -> UInt64 { pvb_realtime_ns() }

/// The conversions the host code needs between `Duration` (the API type) and the raw
/// integers that syscalls, clocks and the agent protocol take.
///
/// Written once here because `components` splits a duration into seconds and attoseconds,
/// and every hand-written sum of the two is a chance to get a factor of 1000 wrong.
extension Duration {
  /// Whole nanoseconds, for CLOCK_MONOTONIC arithmetic and sleeps.
  ///
  /// A negative duration gives 0 (a deadline in the past is "now", not a huge wait);
  /// a duration beyond `UInt64.max` nanoseconds (about 584 years) gives `UInt64.max`.
  public var nanosecondsClamped: UInt64 {
    let (seconds, attoseconds) = components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    let (sum, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
    return overflow || carry ? UInt64.max : sum
  }

  /// Seconds as a `Double`, for timeouts of APIs that take one and for reports.
  public var secondsDouble: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }

  /// Whole milliseconds, truncated toward zero, as the agent protocol's `*_ms` fields take them.
  public var wholeMilliseconds: Int64 {
    components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
  }
}
