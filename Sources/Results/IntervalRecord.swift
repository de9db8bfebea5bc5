import Vocabulary

/// One line of `cells/<id>/intervals.jsonl`: one measurement interval of the measure host.
public struct IntervalRecord: Codable, Sendable, Equatable {
  public var index: Int
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
  /// Whether the mode was applied on the measure host during this interval.
  public var modeApplied: Bool

  public init(
    index: Int, startNanoseconds: UInt64, endNanoseconds: UInt64, phase: Phase,
    wakeup: SparseHistogram, request: SparseHistogram, rps: Double, stealPercent: Double?,
    stealSource: StealSource, noiseBusyPercent: Double?, modeApplied: Bool
  ) {
    self.index = index
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
}
