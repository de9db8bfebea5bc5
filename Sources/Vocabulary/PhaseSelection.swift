/// Which intervals a table or a published figure describes: one phase, or all of them.
///
/// `transition` is not a choice: its settle windows are short and only make sense
/// inside `all`.
public enum PhaseSelection: String, Codable, Sendable, CaseIterable {
  case busy, idle, all

  /// Whether an interval of `phase` belongs to this selection.
  public func includes(_ phase: Phase) -> Bool {
    switch self {
    case .busy: phase == .busy
    case .idle: phase == .idle
    case .all: true
    }
  }

  /// The keys of per-phase figures (a cell summary's `phases`, steal per phase): every
  /// phase, then `all`.
  public static let summaryKeys: [String] = Phase.allCases.map(\.rawValue) + [all.rawValue]
}
