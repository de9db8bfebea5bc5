/// One cell folder of a run as read from disk.
public struct StoredCell: Sendable {
  /// The folder name under `cells/`.
  public var id: String
  /// `cell.json`; nil when the cell never ended (no summary written).
  public var summary: CellSummary?
  public var intervals: [IntervalRecord]
  public var events: [EventRecord]
}
