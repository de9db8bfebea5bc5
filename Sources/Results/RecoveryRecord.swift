/// A restore journal that a dead agent left on a host and the next agent replayed before
/// its hello (`recovered` in the hello event, docs/agent-protocol.md).
public struct RecoveryRecord: Codable, Sendable, Equatable {
  /// The journal's path on the host.
  public var journal: String
  /// Changes undone.
  public var undone: Int
  /// True only when every change read back as undone; the journal is then deleted.
  public var restored: Bool
  /// Full sentences for what did not read back (the journal is kept for `pvbench restore`).
  public var problems: [String]

  public init(journal: String, undone: Int, restored: Bool, problems: [String]) {
    self.journal = journal
    self.undone = undone
    self.restored = restored
    self.problems = problems
  }

  /// One line for the run's progress: `restored 4 changes left by …, read back`.
  public var sentence: String {
    let changes = "\(undone) change\(undone == 1 ? "" : "s")"
    return restored
      ? "restored \(changes) left by a dead agent (\(journal)), read back"
      : "could not fully restore \(journal) left by a dead agent (\(changes) undone): "
        + problems.joined(separator: " ")
  }
}
