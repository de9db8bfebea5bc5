/// The clock of the per-interval snapshots: interval `k` covers
/// `[origin + k·length, origin + (k+1)·length)` on the monotonic clock, whenever the thread
/// that takes the snapshots happens to run.
///
/// The snapshot thread runs in the measured guest and is starved with it. A snapshot taken
/// late still covers its real span (its samples are real), but the boundaries it slept
/// through had no snapshot of their own: they are counted as missed intervals, so a cell
/// of 40 s whose thread woke 12 times too late holds 28 intervals and 12 gaps, never
/// silently 28 intervals.
package struct IntervalGrid: Sendable, Equatable {
  /// The grid's time zero (CLOCK_MONOTONIC, ns).
  package let origin: UInt64
  /// Nominal interval length, ns.
  package let length: UInt64
  /// Boundaries after this time (the end of the run) are not intervals of the run.
  package let limit: UInt64
  /// The number given to the interval that starts at `origin` (negative during a warmup).
  package let firstSlot: Int
  /// The next boundary the snapshot thread waits for.
  package private(set) var nextBoundary: UInt64
  /// The slot of the interval accumulating now.
  package private(set) var slot: Int

  /// - Parameters:
  ///   - origin: time zero of the grid.
  ///   - length: nominal interval length in ns (at least 1).
  ///   - limit: the end of the run; later boundaries do not count.
  ///   - firstSlot: the number of the interval that starts at `origin`.
  package init(origin: UInt64, length: UInt64, limit: UInt64, firstSlot: Int = 0) {
    self.origin = origin
    self.length = max(1, length)
    self.limit = limit
    self.firstSlot = firstSlot
    nextBoundary = origin + max(1, length)
    slot = firstSlot
  }

  /// A snapshot about to be taken: the slot it starts in and the boundaries it slept through.
  package struct Closed: Sendable, Equatable {
    /// The slot the snapshot's span starts in.
    package var slot: Int
    /// Whole intervals inside the span that had no snapshot of their own (0 when on time).
    package var missed: Int
  }

  /// Whether a snapshot is due at `now`.
  package func isDue(at now: UInt64) -> Bool { now >= nextBoundary }

  /// Closes the interval accumulating at `now`: counts the boundaries passed since the last
  /// snapshot (those up to `limit`), moves past `now`, and returns what the snapshot covers.
  /// A snapshot that passes no boundary (the last, partial one) misses nothing.
  package mutating func close(at now: UInt64) -> Closed {
    var passed = 0
    while nextBoundary <= now {
      if nextBoundary <= limit { passed += 1 }
      nextBoundary += length
    }
    let closed = Closed(slot: slot, missed: max(0, passed - 1))
    slot += passed
    return closed
  }
}
