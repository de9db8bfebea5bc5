import Vocabulary

/// One line of `cells/<id>/intervals.jsonl`: one measurement interval of the measure host.
///
/// The run engine writes it and the report reads it. Histograms stay sparse, so a
/// report reading tens of thousands of intervals never builds a dense HDR counts array
/// per interval. `IntervalLineParser` is a faster reader of the same lines and takes
/// its keys from `CodingKeys`.
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

  /// The keys of a line, shared by the `Codable` conformance and `IntervalLineParser`.
  package enum CodingKeys: String, CodingKey, CaseIterable {
    case index, startNanoseconds, endNanoseconds, phase, wakeup, request, rps, stealPercent
    case stealSource, noiseBusyPercent, modeApplied
  }

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
