import Vocabulary

/// One mode of the experiment: its id in cell ids, its kind and the label reviewers read.
public struct ModeRecord: Codable, Sendable, Equatable {
  /// Stable id, e.g. `hotplug` or `cpuset-2` when a kind repeats.
  public var id: String
  /// Written as its raw value: `out-of-box`, `hotplug`, `paravirt`, `preferred`, `cpuset`
  /// or `governor`.
  public var kind: ModeKind
  /// Column title, e.g. `Out of Box`, `cpu_hotplug`.
  public var label: String
  /// The hosts the mode folds when the experiment names them (`hosts:`); absent when it
  /// folds the measure host alone.
  public var hosts: [String]?
  /// preferred: the `steal_governor` module's parameters as loaded
  /// (`interval_ms=1000 high_threshold=500 low_threshold=200`); absent otherwise.
  public var moduleParameters: String?

  public init(
    id: String, kind: ModeKind, label: String, hosts: [String]? = nil,
    moduleParameters: String? = nil
  ) {
    self.id = id
    self.kind = kind
    self.label = label
    self.hosts = hosts
    self.moduleParameters = moduleParameters
  }
}
