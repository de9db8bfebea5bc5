import CPVBenchShims

/// CLOCK_MONOTONIC now, in nanoseconds.
@inline(__always)
public func monotonicNow() -> UInt64 { pvb_monotonic_ns() }

/// CLOCK_REALTIME now, in nanoseconds since the epoch.
@inline(__always)
public func wallNow() -> UInt64 { pvb_realtime_ns() }
