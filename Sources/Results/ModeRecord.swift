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

  public init(id: String, kind: ModeKind, label: String) {
    self.id = id
    self.kind = kind
    self.label = label
  }
}
