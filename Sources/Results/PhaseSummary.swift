/// Percentiles and counts of one phase of one cell.
public struct PhaseSummary: Codable, Sendable, Equatable {
  public var intervals: Int
  /// Intervals of the workload's clock in this phase that had no snapshot of their own (the
  /// snapshot thread woke late; their samples are in the late interval). Nil in stores
  /// written before gaps were counted.
  public var gaps: Int?
  public var wakeupSamples: UInt64
  /// Wakeup latency percentiles in microseconds, keyed `"50.0"`, `"90.0"`, `"99.0"`, `"99.9"`.
  public var wakeupPercentilesMicroseconds: [String: Double]
  public var requestPercentilesMicroseconds: [String: Double]
  public var averageRPS: Double
  /// Mean steal % of the measure host in this phase, if a source exists.
  public var stealPercent: Double?
  /// Mean busy % of the noise host's CPUs in this phase.
  public var noiseBusyPercent: Double?

  public init(
    intervals: Int, gaps: Int? = nil, wakeupSamples: UInt64,
    wakeupPercentilesMicroseconds: [String: Double],
    requestPercentilesMicroseconds: [String: Double], averageRPS: Double,
    stealPercent: Double? = nil, noiseBusyPercent: Double? = nil
  ) {
    self.intervals = intervals
    self.gaps = gaps
    self.wakeupSamples = wakeupSamples
    self.wakeupPercentilesMicroseconds = wakeupPercentilesMicroseconds
    self.requestPercentilesMicroseconds = requestPercentilesMicroseconds
    self.averageRPS = averageRPS
    self.stealPercent = stealPercent
    self.noiseBusyPercent = noiseBusyPercent
  }
}
