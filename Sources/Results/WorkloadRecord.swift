/// The measure host's workload as it ran: schbench's flags after every default was resolved.
public struct WorkloadRecord: Codable, Sendable, Equatable {
  /// The flags as a schbench command line (`schbench -m 1 -t 4 -r 60 …`), so a reader can
  /// rerun the same load with schbench itself.
  public var schbenchCommandLine: String
  /// `-r`: measured seconds per cell, warmup excluded.
  public var runtimeSeconds: Int
  /// `-i`: seconds per measurement interval.
  public var intervalSeconds: Int
  /// `-R`: requests per second when paced; nil for schbench's closed loop.
  public var requestsPerSecond: Int?

  public init(
    schbenchCommandLine: String, runtimeSeconds: Int, intervalSeconds: Int,
    requestsPerSecond: Int? = nil
  ) {
    self.schbenchCommandLine = schbenchCommandLine
    self.runtimeSeconds = runtimeSeconds
    self.intervalSeconds = intervalSeconds
    self.requestsPerSecond = requestsPerSecond
  }

  /// Intervals a cell should hold: one per `intervalSeconds` of `runtimeSeconds`.
  public var expectedIntervals: Int {
    intervalSeconds > 0 ? runtimeSeconds / intervalSeconds : 0
  }
}
