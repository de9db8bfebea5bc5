import Foundation
import Results

/// The moving-block bootstrap over measurement intervals.
///
/// Each cell's intervals are resampled in blocks of consecutive intervals (circular),
/// their histograms are merged exactly (bucket counts add), and the percentile is read;
/// the group's replicate is the median of its cells' replicates. Consecutive intervals
/// are correlated (the load and the mode drift slowly), so resampling them one by one
/// would treat them as independent and give too narrow an interval: the block length
/// grows with the lag-1 autocorrelation of the intervals' medians (`blockLength`). It
/// gives an interval for one repetition, but within one run: run-to-run variation is
/// not in it. The bootstrap runs per phase.
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
  ///   - blockLength: intervals per block; nil chooses it from the data (`blockLength(_:)`).
  /// - Returns: one estimate per percentile, in the order given; nil when no cell has a
  ///   sample (no data is not zero).
  public static func percentileEstimates(
    cells: [[SparseHistogram]], percentiles: [Double], scale: Double, resamples: Int,
    seed: UInt64, blockLength fixedBlock: Int? = nil
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
      let block = max(1, fixedBlock ?? blockLength(intervals))
      for _ in 0..<resamples {
        // A draw of only empty intervals has no percentile: draw again (the cell has
        // samples, so this ends).
        repeat {
          for slot in dense.indices { dense[slot] = 0 }
          total = 0
          var drawn = 0
          while drawn < count {
            let start = generator.index(below: count)
            for offset in 0..<min(block, count - drawn) {
              for item in indexed.entries[(start + offset) % count] {
                dense[Int(item.index)] += item.count
                total += item.count
              }
            }
            drawn += block
          }
        } while total == 0
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
        repetitions: cells.count, method: .intervals, coverage: 0.95,
        replicates: groupReplicates.map { $0 * scale },
        cellValues: pointPerCell.map { $0[p] * scale })
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
      repetitions: cells.count, method: .intervals, coverage: 0.95, replicates: group,
      cellValues: points)
  }

  /// The block length for a cell's intervals: 1 when their medians are not positively
  /// autocorrelated, else ⌈(2ρ / (1 − ρ²))^⅔ · n^⅓⌉ for lag-1 autocorrelation ρ of the
  /// log medians (the AR(1) form of the optimal block length of Politis and White, 2004),
  /// at most half the intervals.
  public static func blockLength(_ intervals: [SparseHistogram]) -> Int {
    let series = intervals.filter { $0.total > 0 }.map {
      log(Double(max($0.value(atPercentile: 50), 1)))
    }
    let n = series.count
    guard n >= 4 else { return 1 }
    let rho = lagOneAutocorrelation(series)
    guard rho > 0 else { return 1 }
    let clamped = min(rho, 0.99)
    let length = pow(2 * clamped / (1 - clamped * clamped), 2.0 / 3) * pow(Double(n), 1.0 / 3)
    return max(1, min(intervals.count / 2, Int(length.rounded(.up))))
  }

  /// The lag-1 autocorrelation of `series` (0 for a constant series).
  public static func lagOneAutocorrelation(_ series: [Double]) -> Double {
    guard series.count > 2 else { return 0 }
    let mean = series.reduce(0, +) / Double(series.count)
    var numerator = 0.0
    var denominator = 0.0
    for (index, value) in series.enumerated() {
      denominator += (value - mean) * (value - mean)
      if index > 0 { numerator += (value - mean) * (series[index - 1] - mean) }
    }
    return denominator > 0 ? numerator / denominator : 0
  }
}
