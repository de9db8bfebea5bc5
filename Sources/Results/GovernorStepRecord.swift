/// What pvbench's governor measured and did in one run of its loop: the `governor` field
/// of a `governor` or `governor-step` event (docs/modes.md).
public struct GovernorStepRecord: Codable, Sendable, Equatable {
  /// `start`, `skip`, `fold`, `unfold` or `hold`.
  public var action: String
  /// Steal ratio in hundredths of a percent (the driver's unit); absent for `start` and
  /// `skip`.
  public var ratio: UInt64?
  /// Steal since the last reading, summed over every possible CPU, ns.
  public var deltaStealNanoseconds: UInt64?
  /// Time since the last reading, ns.
  public var deltaTimeNanoseconds: UInt64?
  /// CPUs counted in the ratio's denominator.
  public var activeCPUs: Int?
  /// The preferred CPUs after the step, as a cpulist.
  public var preferred: String
  /// The CPUs that left (fold) or came back (unfold), as a cpulist; `""` when none.
  public var moved: String?
  /// True when the set was invalid after the step: preferred restored to active, the
  /// governor stopped for good.
  public var stopped: Bool?
  /// `start` only: where the steal came from, and the parameters in the driver's units.
  public var input: String?
  public var intervalMilliseconds: Int?
  public var highThreshold: Int?
  public var lowThreshold: Int?

  public init(
    action: String, ratio: UInt64? = nil, deltaStealNanoseconds: UInt64? = nil,
    deltaTimeNanoseconds: UInt64? = nil, activeCPUs: Int? = nil, preferred: String,
    moved: String? = nil, stopped: Bool? = nil, input: String? = nil,
    intervalMilliseconds: Int? = nil, highThreshold: Int? = nil, lowThreshold: Int? = nil
  ) {
    self.action = action
    self.ratio = ratio
    self.deltaStealNanoseconds = deltaStealNanoseconds
    self.deltaTimeNanoseconds = deltaTimeNanoseconds
    self.activeCPUs = activeCPUs
    self.preferred = preferred
    self.moved = moved
    self.stopped = stopped
    self.input = input
    self.intervalMilliseconds = intervalMilliseconds
    self.highThreshold = highThreshold
    self.lowThreshold = lowThreshold
  }
}
