/// The cumulative result of a run (since the warmup ended or the last `-z` zeroing).
public struct SchbenchResult: Codable, Sendable {
  /// All wakeup latencies, ns.
  public var wakeup: LatencyHistogram
  /// All request latencies, ns.
  public var request: LatencyHistogram
  /// Requests per second, one sample per second.
  public var rpsSamples: [Double]
  /// Requests divided by `runtimeSeconds`.
  public var averageRPS: Double
  /// Seconds the totals cover.
  public var runtimeSeconds: Double
  /// The command line that produced the run, when known.
  public var commandLine: [String]

  /// Creates a result.
  public init(
    wakeup: LatencyHistogram = LatencyHistogram(), request: LatencyHistogram = LatencyHistogram(),
    rpsSamples: [Double] = [], averageRPS: Double = 0, runtimeSeconds: Double = 0,
    commandLine: [String] = []
  ) {
    self.wakeup = wakeup
    self.request = request
    self.rpsSamples = rpsSamples
    self.averageRPS = averageRPS
    self.runtimeSeconds = runtimeSeconds
    self.commandLine = commandLine
  }
}
