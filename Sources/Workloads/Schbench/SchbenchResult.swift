/// The cumulative result of a run (since the warmup ended or the last `-z` zeroing).
public struct SchbenchResult: Codable, Sendable {
  /// All wakeup latencies, ns.
  public var wakeup: LatencyHistogram
  /// All request latencies, ns.
  public var request: LatencyHistogram
  /// Requests per second, one sample per second.
  public var rpsSamples: [Double]
  /// schbench's `average rps`: every request of the run (warmup and zeroed periods
  /// included, as schbench counts them) divided by `-r`, or by the seconds run when the
  /// run was stopped early.
  public var averageRPS: Double
  /// The last whole second's request rate (schbench's `current rps`).
  public var currentRPS: Double = 0
  /// Mean run-queue wait per scheduling of the message threads, ns (`sched delay`).
  public var messageSchedDelayNanoseconds: UInt64 = 0
  /// Mean run-queue wait per scheduling of the workers, ns.
  public var workerSchedDelayNanoseconds: UInt64 = 0
  /// Workers per message thread, as resolved on the measured host (`-t` or its default).
  public var workersPerMessageThread: Int = 0
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

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case wakeup = "wakeup"
    case request = "request"
    case rpsSamples = "rpsSamples"
    case averageRPS = "averageRPS"
    case currentRPS = "currentRPS"
    case messageSchedDelayNanoseconds = "messageSchedDelayNanoseconds"
    case workerSchedDelayNanoseconds = "workerSchedDelayNanoseconds"
    case workersPerMessageThread = "workersPerMessageThread"
    case runtimeSeconds = "runtimeSeconds"
    case commandLine = "commandLine"
  }
}
