/// `manifest.json`'s `shard`: which part of a plan a run holds (`run --shard K/N`).
public struct ShardRecord: Codable, Sendable, Equatable {
  /// 1-based.
  public var index: Int
  public var count: Int
  /// The testbed it ran on (`--testbed`), when one was named.
  public var testbed: String?
  /// Every cell id of the whole plan, in plan order; the run's `plannedCells` are the
  /// shard's own.
  public var planCells: [String]

  public init(index: Int, count: Int, testbed: String?, planCells: [String]) {
    self.index = index
    self.count = count
    self.testbed = testbed
    self.planCells = planCells
  }
}

/// One run that `pvbench merge` joined, as the merged manifest records it.
public struct MergedShardRecord: Codable, Sendable, Equatable {
  /// The shard run's folder as given to `merge`.
  public var path: String
  public var runID: String
  /// `K/N`, or absent for a run that was not a shard.
  public var shard: String?
  public var testbed: String?
  /// Its planned cells, and how many of them it had finished as complete.
  public var plannedCells: Int
  public var completeCells: Int
  public var startedAt: String
  public var endedAt: String?
  /// The shard's hosts as it recorded them, each with its testbed.
  public var hosts: [HostRecord]

  public init(
    path: String, runID: String, shard: String?, testbed: String?, plannedCells: Int,
    completeCells: Int, startedAt: String, endedAt: String?, hosts: [HostRecord]
  ) {
    self.path = path
    self.runID = runID
    self.shard = shard
    self.testbed = testbed
    self.plannedCells = plannedCells
    self.completeCells = completeCells
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.hosts = hosts
  }
}
