import Testing

@testable import Workloads

@Suite struct IntervalGridTests {
  static let second: UInt64 = 1_000_000_000

  /// Snapshots taken 5 ms after each boundary: one slot each, nothing missed.
  @Test func onTimeSnapshotsMissNothing() {
    var grid = IntervalGrid(origin: 10 * Self.second, length: Self.second, limit: 14 * Self.second)
    var closed: [IntervalGrid.Closed] = []
    for k in 1...4 {
      let now = 10 * Self.second + UInt64(k) * Self.second + 5_000_000
      #expect(grid.isDue(at: now))
      closed.append(grid.close(at: now))
    }
    #expect(closed.map(\.slot) == [0, 1, 2, 3])
    #expect(closed.map(\.missed) == [0, 0, 0, 0])
  }

  /// A snapshot thread starved from 1.0 s to 4.2 s: the snapshot it then takes starts in
  /// slot 1 and stands for slots 1, 2 and 3; the next one is slot 4, so slots plus gaps
  /// account for every second of the run.
  @Test func aLateSnapshotCountsTheBoundariesItSleptThrough() {
    let s = Self.second
    var grid = IntervalGrid(origin: 0, length: s, limit: 5 * s)
    let first = grid.close(at: s + 1_000_000)
    #expect(!grid.isDue(at: 2 * s - 1))
    let late = grid.close(at: 4 * s + 200_000_000)
    let next = grid.close(at: 5 * s)
    #expect(first == .init(slot: 0, missed: 0))
    #expect(late == .init(slot: 1, missed: 2))
    #expect(next == .init(slot: 4, missed: 0))
    #expect([first, late, next].reduce(0) { $0 + 1 + $1.missed } == 5)
  }

  /// Late by less than one interval: a longer span and a shorter one, no gap.
  @Test func lateByLessThanAnIntervalIsNoGap() {
    let s = Self.second
    var grid = IntervalGrid(origin: 0, length: s, limit: 3 * s)
    #expect(grid.close(at: s + 900_000_000) == .init(slot: 0, missed: 0))
    #expect(grid.close(at: 2 * s + 1_000) == .init(slot: 1, missed: 0))
  }

  /// Boundaries after the end of the run are not intervals of it, and the partial snapshot
  /// taken when the threads stop misses nothing.
  @Test func boundariesAfterTheLimitDoNotCount() {
    let s = Self.second
    var grid = IntervalGrid(origin: 0, length: s, limit: 2 * s, firstSlot: -1)
    #expect(grid.close(at: s) == .init(slot: -1, missed: 0))
    #expect(grid.close(at: 5 * s) == .init(slot: 0, missed: 0))
    #expect(grid.close(at: 5 * s + 10) == .init(slot: 1, missed: 0))
  }
}
