import Results

/// The percentile bootstrap over measurement intervals.
///
/// Each cell's intervals are resampled with replacement, their histograms are
/// merged exactly (bucket counts add), and the percentile is read; the group's
/// replicate is the median of its cells' replicates. This gives an interval even
/// for one repetition. It treats intervals as exchangeable, which busy/idle
/// phases are not across phases — hence the bootstrap runs per phase.
public enum IntervalBootstrap {
  /// One cell's intervals of one phase, indexed over the cell's distinct bucket values.
  struct Indexed {
    var values: [UInt64]
    /// Per interval: bucket indices into `values` and their counts.
    var entries: [[(index: Int32, count: UInt64)]]

    init(_ intervals: [SparseHistogram]) {
      var all = Set<UInt64>()
      for interval in intervals { all.formUnion(interval.values) }
      values = all.sorted()
      var position: [UInt64: Int32] = [:]
      position.reserveCapacity(values.count)
      for (index, value) in values.enumerated() { position[value] = Int32(index) }
      entries = intervals.map { interval in
        zip(interval.values, interval.counts).map { (position[$0]!, $1) }
      }
    }
  }

  /// Values at ascending `percentiles` from dense `counts` over `values`, in one pass.
  static func percentiles(
    _ percentiles: [Double], values: [UInt64], counts: [UInt64], total: UInt64
  ) -> [Double] {
    guard total > 0 else { return percentiles.map { _ in 0 } }
    return percentiles.map {
      Double(SparseHistogram.value(atPercentile: $0, values: values, counts: counts, total: total))
    }
  }

  /// Median-across-cells percentile estimates with an interval-bootstrap 95 % interval.
  ///
  /// - Parameters:
  ///   - cells: per cell, the histograms of its intervals in the phase (empty cells are skipped).
  ///   - percentiles: percentiles (0–100) to estimate.
  ///   - scale: multiplies every value (1/1000 for nanoseconds → microseconds).
  ///   - resamples: bootstrap resamples.
  ///   - seed: the generator's seed.
  /// - Returns: one estimate per percentile, in the order given; nil when no cell has a
  ///   sample (no data is not zero).
  public static func percentileEstimates(
    cells: [[SparseHistogram]], percentiles: [Double], scale: Double, resamples: Int,
    seed: UInt64
  ) -> [Estimate]? {
    let cells = cells.filter { intervals in intervals.contains { $0.total > 0 } }
    guard !cells.isEmpty else { return nil }
    var generator = SeededGenerator(seed: seed)
    // pointPerCell[cell][p], replicatesPerCell[cell][r][p]
    var pointPerCell: [[Double]] = []
    var replicatesPerCell: [[[Double]]] = []
    for intervals in cells {
      let indexed = Indexed(intervals)
      var dense = [UInt64](repeating: 0, count: indexed.values.count)
      var total: UInt64 = 0
      for entry in indexed.entries {
        for item in entry {
          dense[Int(item.index)] += item.count
          total += item.count
        }
      }
      pointPerCell.append(
        Self.percentiles(percentiles, values: indexed.values, counts: dense, total: total))
      var replicates: [[Double]] = []
      replicates.reserveCapacity(resamples)
      let count = indexed.entries.count
      for _ in 0..<resamples {
        for slot in dense.indices { dense[slot] = 0 }
        total = 0
        for _ in 0..<count {
          for item in indexed.entries[generator.index(below: count)] {
            dense[Int(item.index)] += item.count
            total += item.count
          }
        }
        replicates.append(
          Self.percentiles(percentiles, values: indexed.values, counts: dense, total: total))
      }
      replicatesPerCell.append(replicates)
    }
    return percentiles.indices.map { p in
      let point = Statistics.median(pointPerCell.map { $0[p] })
      let groupReplicates = (0..<resamples).map { r in
        Statistics.median(replicatesPerCell.map { $0[r][p] })
      }
      let bounds = Statistics.interval95(groupReplicates)
      return Estimate(
        value: point * scale, low: bounds.low * scale, high: bounds.high * scale,
        repetitions: cells.count, method: .intervals,
        replicates: groupReplicates.map { $0 * scale })
    }
  }

  /// The median across cells of each cell's mean, with an interval-bootstrap 95 % interval.
  public static func meanEstimate(
    cells: [[Double]], resamples: Int, seed: UInt64
  ) -> Estimate? {
    let cells = cells.filter { !$0.isEmpty }
    guard !cells.isEmpty else { return nil }
    var generator = SeededGenerator(seed: seed)
    let points = cells.map { $0.reduce(0, +) / Double($0.count) }
    var perCell: [[Double]] = []
    for values in cells {
      var replicates: [Double] = []
      replicates.reserveCapacity(resamples)
      for _ in 0..<resamples {
        var sum = 0.0
        for _ in 0..<values.count { sum += values[generator.index(below: values.count)] }
        replicates.append(sum / Double(values.count))
      }
      perCell.append(replicates)
    }
    let group = (0..<resamples).map { r in Statistics.median(perCell.map { $0[r] }) }
    let bounds = Statistics.interval95(group)
    return Estimate(
      value: Statistics.median(points), low: bounds.low, high: bounds.high,
      repetitions: cells.count, method: .intervals, replicates: group)
  }
}
