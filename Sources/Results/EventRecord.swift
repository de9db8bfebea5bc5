/// One line of `cells/<id>/events.jsonl`.
public struct EventRecord: Codable, Sendable, Equatable {
  /// Nanoseconds since the cell started, on the controller's clock.
  public var timeNanoseconds: UInt64
  public var host: String
  public var kind: EventKind
  /// For `phase-edge`: `busy` or `idle`. For mode events: the mode id.
  public var detail: String
  /// Duration of the action in milliseconds (apply, restore, evacuation), when it has one.
  public var milliseconds: Double?
  /// For `governor`: the CPUs avoided after the decision, as a cpulist (`""` when none).
  /// Absent in stores written before the report read governor decisions. For
  /// `preferred`: the preferred CPUs.
  public var cpus: String?
  /// For `governor` and `governor-step`: what the governor measured and did.
  public var governor: GovernorStepRecord?

  public init(
    timeNanoseconds: UInt64, host: String, kind: EventKind, detail: String,
    milliseconds: Double? = nil, cpus: String? = nil, governor: GovernorStepRecord? = nil
  ) {
    self.timeNanoseconds = timeNanoseconds
    self.host = host
    self.kind = kind
    self.detail = detail
    self.milliseconds = milliseconds
    self.cpus = cpus
    self.governor = governor
  }
}
