/// The JSON document of `-j/--json`: every percentile, min, max, sample counts, average RPS
/// and the command line, with the full histograms so nothing is lost.
public struct SchbenchSummary: Codable, Sendable {
  /// Latency statistics of one kind (wakeup or request), all in nanoseconds.
  public struct Latency: Codable, Sendable {
    public var samples: UInt64
    public var minNanoseconds: UInt64
    public var maxNanoseconds: UInt64
    public var meanNanoseconds: Double
    /// schbench's lines (50, 90, 99, 99.9) then more (1 … 99.99), each with its value in ns.
    public var percentiles: [PercentileLine]
    /// The histogram as `[[value, count], …]`.
    public var histogram: LatencyHistogram
  }

  /// Per-second request counts.
  public struct RPS: Codable, Sendable {
    public var samples: [Double]
    public var percentiles: [PercentileLine]
    public var average: Double
  }

  public var tool: String
  public var commandLine: [String]
  public var options: SchbenchOptions
  /// `-t` as resolved on the host that ran the workload.
  public var workersPerMessageThread: Int
  public var runtimeSeconds: Double
  public var averageRPS: Double
  public var wakeupLatency: Latency
  public var requestLatency: Latency
  public var rps: RPS

  /// The percentiles listed in the JSON.
  public static let jsonPercentiles: [Double] = [
    1, 5, 10, 20, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99,
  ]

  /// Summarises a result.
  public init(result: SchbenchResult, options: SchbenchOptions) {
    func latency(_ histogram: LatencyHistogram) -> Latency {
      Latency(
        samples: histogram.count, minNanoseconds: histogram.minNanoseconds,
        maxNanoseconds: histogram.maxNanoseconds, meanNanoseconds: histogram.meanNanoseconds,
        percentiles: SchbenchReport.percentiles(
          of: histogram.buckets, at: SchbenchSummary.jsonPercentiles),
        histogram: histogram)
    }
    tool = "pvbench workload schbench"
    commandLine = result.commandLine
    self.options = options
    workersPerMessageThread = result.workersPerMessageThread
    runtimeSeconds = result.runtimeSeconds
    averageRPS = result.averageRPS
    wakeupLatency = latency(result.wakeup)
    requestLatency = latency(result.request)
    let sorted = result.rpsSamples.map { UInt64(max(0, $0.rounded())) }.sorted()
    rps = RPS(
      samples: result.rpsSamples,
      percentiles: SchbenchReport.percentiles(
        of: sorted.map { (value: $0, count: UInt64(1)) }, at: SchbenchReport.rpsPercentiles),
      average: result.averageRPS)
  }
}
