import Vocabulary

/// Published numbers an experiment means to reproduce (`expect:` in the file).
public struct ExpectRecord: Codable, Sendable, Equatable {
  /// The table's name, e.g. `cover-letter-v3`.
  public var table: String
  /// Allowed relative difference, 0.25 for `25%`.
  public var tolerance: Double
  /// The intervals the published numbers describe (`busy` for the cover letter).
  public var phase: PhaseSelection
  /// Published wakeup latency in microseconds by mode id, then percentile key (`"99.0"`).
  public var wakeupMicroseconds: [String: [String: Double]]

  public init(
    table: String, tolerance: Double, phase: PhaseSelection,
    wakeupMicroseconds: [String: [String: Double]]
  ) {
    self.table = table
    self.tolerance = tolerance
    self.phase = phase
    self.wakeupMicroseconds = wakeupMicroseconds
  }
}
