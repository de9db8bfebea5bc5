import Vocabulary

/// One line of `cells/<id>/intervals.jsonl`: one measurement interval of the measure host.
///
/// The run engine writes it and the report reads it. Histograms stay sparse, so a
/// report reading tens of thousands of intervals never builds a dense HDR counts array
/// per interval. `IntervalLineParser` is a faster reader of the same lines and takes
/// its keys from `CodingKeys`.
public struct IntervalRecord: Codable, Sendable, Equatable {
  /// 0, 1, 2, … in the order the measure host took its snapshots.
  public var index: Int
  /// The interval of the workload's clock the snapshot starts in: slot `k` covers
  /// `[t0 + k·I, t0 + (k+1)·I)` after the warmup. Nil in stores written before slots.
  public var slot: Int?
  /// Whole intervals inside this one's span with no snapshot of their own: the measure
  /// host's snapshot thread woke that late (starved). They are gaps of the cell; the
  /// samples they held are in this interval. Nil in stores written before gaps were counted.
  public var missedIntervals: Int?
  /// Interval start and end in nanoseconds since the cell started, on the controller's clock.
  public var startNanoseconds: UInt64
  public var endNanoseconds: UInt64
  public var phase: Phase
  public var wakeup: SparseHistogram
  public var request: SparseHistogram
  public var rps: Double
  /// Steal % of the measure host over this interval, and its source.
  public var stealPercent: Double?
  public var stealSource: StealSource
  /// Busy % over the noise host's CPUs during this interval.
  public var noiseBusyPercent: Double?
  /// Busy % over the measure host's online CPUs during this interval (its `/proc/stat`):
  /// near 100 the guest, folded or not, is saturated. Nil without samples.
  public var measureBusyPercent: Double?
  /// Whether the mode was applied on the measure host during this interval.
  public var modeApplied: Bool

  /// The keys of a line, shared by the `Codable` conformance and `IntervalLineParser`.
  package enum CodingKeys: String, CodingKey, CaseIterable {
    case index, startNanoseconds, endNanoseconds, phase, wakeup, request, rps, stealPercent
    case stealSource, noiseBusyPercent, modeApplied, slot, missedIntervals, measureBusyPercent
  }

  public init(
    index: Int, startNanoseconds: UInt64, endNanoseconds: UInt64, phase: Phase,
    wakeup: SparseHistogram, request: SparseHistogram, rps: Double, stealPercent: Double?,
    stealSource: StealSource, noiseBusyPercent: Double?, modeApplied: Bool, slot: Int? = nil,
    missedIntervals: Int? = nil, measureBusyPercent: Double? = nil
  ) {
    self.index = index
    self.slot = slot
    self.missedIntervals = missedIntervals
    self.measureBusyPercent = measureBusyPercent
    self.startNanoseconds = startNanoseconds
    self.endNanoseconds = endNanoseconds
    self.phase = phase
    self.wakeup = wakeup
    self.request = request
    self.rps = rps
    self.stealPercent = stealPercent
    self.stealSource = stealSource
    self.noiseBusyPercent = noiseBusyPercent
    self.modeApplied = modeApplied
  }

  /// Intervals of the workload's clock this one stands for: itself and its missed ones.
  public var coveredIntervals: Int { 1 + (missedIntervals ?? 0) }

  /// Requests done in this interval: its rate over its span.
  public var requests: Double {
    rps * Double(endNanoseconds &- startNanoseconds) / 1e9
  }
}
