/// `cells/<id>/cell.json`, written last and atomically: its presence means the cell ended.
public struct CellSummary: Codable, Sendable, Equatable {
  public var id: String
  public var modeID: String
  /// Swept values by dotted key path, normalised to text (`"noise.stress.busy": "10s"`).
  public var point: [String: String]
  public var repetition: Int
  public var status: CellStatus
  public var reasons: [String]
  public var startedAt: String
  public var endedAt: String
  /// Keyed by `busy`, `idle`, `transition` and `all`.
  public var phases: [String: PhaseSummary]
  public var stealSource: StealSource
  /// The settle window after each edge, in milliseconds, during which intervals are `transition`.
  public var settleMilliseconds: Int
  /// The schbench workers per message thread as the measured host resolved them (`-t`, or
  /// its online CPUs divided by the message threads); nil in stores written before it.
  public var workersPerMessageThread: Int?
  /// The measured workload's pushes off non-preferred CPUs, read as its threads ended; nil
  /// when the agent did not say (a 1.1 agent, or a workload stopped before its end).
  public var preferredPushes: PreferredPushRecord?

  public init(
    id: String, modeID: String, point: [String: String], repetition: Int, status: CellStatus,
    reasons: [String], startedAt: String, endedAt: String, phases: [String: PhaseSummary],
    stealSource: StealSource, settleMilliseconds: Int, workersPerMessageThread: Int? = nil,
    preferredPushes: PreferredPushRecord? = nil
  ) {
    self.id = id
    self.modeID = modeID
    self.point = point
    self.repetition = repetition
    self.status = status
    self.reasons = reasons
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.phases = phases
    self.stealSource = stealSource
    self.settleMilliseconds = settleMilliseconds
    self.workersPerMessageThread = workersPerMessageThread
    self.preferredPushes = preferredPushes
  }
}
