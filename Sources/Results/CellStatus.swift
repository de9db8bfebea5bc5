/// The state of a cell.
public enum CellStatus: String, Codable, Sendable {
  /// Ran to the end and passed every validity gate.
  case complete
  /// Ran to the end but failed a validity gate; kept, never averaged in.
  case invalid
  /// Interrupted; what was measured is kept, resume runs it again.
  case partial
  /// A host failed; resume runs it again.
  case failed
}
