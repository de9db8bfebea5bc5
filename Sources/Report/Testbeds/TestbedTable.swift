import Foundation
import Results
import Vocabulary

/// The wakeup latency percentiles of each mode on each testbed of a merged run
/// (`pvbench report --by testbed`), so a reviewer sees whether one testbed differs.
///
/// Each row pools the complete cells of one mode, sweep point and testbed: their
/// intervals in the chosen phase are merged into one histogram, as a single cell's
/// are. No interval is shown as `-`.
public enum TestbedTable {
  /// The table, or nil when the run records no testbed for any cell.
  /// - Throws: `ResultsError.unreadable` when a cell's intervals do not decode.
  public static func make(_ store: RunStore, phase: PhaseSelection) throws -> TextTable? {
    guard let testbeds = store.manifest.cellTestbeds, !testbeds.isEmpty else { return nil }
    let percentiles = store.manifest.reportPercentiles
    let labels = Dictionary(
      store.manifest.modes.map { ($0.id, $0.label) }, uniquingKeysWith: { first, _ in first })
    let modeOrder = store.manifest.modes.map(\.id)
    let sweepKeys = store.manifest.sweepKeys
    struct Key: Hashable {
      var mode: String
      var point: String
      var testbed: String
    }
    var pooled: [Key: (cells: Int, wakeup: SparseHistogram)] = [:]
    var order: [Key] = []
    for cell in store.cells {
      guard let summary = cell.summary, summary.status == .complete else { continue }
      let point = sweepKeys.compactMap { key in
        summary.point[key].map { "\(key.split(separator: ".").last ?? "")=\($0)" }
      }.joined(separator: " ")
      let key = Key(
        mode: summary.modeID, point: point, testbed: testbeds[cell.id] ?? Format.noData)
      let intervals = try store.withIntervals(cell).intervals.filter { phase.includes($0.phase) }
      let merged = SparseHistogram.merged(
        [pooled[key]?.wakeup ?? SparseHistogram()] + intervals.map(\.wakeup))
      if pooled[key] == nil { order.append(key) }
      pooled[key] = ((pooled[key]?.cells ?? 0) + 1, merged)
    }
    order.sort {
      let left = (modeOrder.firstIndex(of: $0.mode) ?? .max, $0.point, $0.testbed)
      let right = (modeOrder.firstIndex(of: $1.mode) ?? .max, $1.point, $1.testbed)
      return left < right
    }
    let showPoint = !sweepKeys.isEmpty
    var header = ["mode"] + (showPoint ? ["point"] : []) + ["testbed", "cells"]
    header += percentiles.map { PercentileKey($0).label }
    let rows = order.map { key -> [String] in
      let entry = pooled[key]!
      var row = [labels[key.mode] ?? key.mode] + (showPoint ? [key.point] : [])
      row += [key.testbed, "\(entry.cells)"]
      row += percentiles.map { percentile in
        entry.wakeup.total == 0
          ? Format.noData
          : Format.micros(Double(entry.wakeup.value(atPercentile: percentile)) / 1000)
      }
      return row
    }
    return TextTable(
      title: "Wakeup latency (µs) by testbed, \(phase.rawValue) intervals",
      header: header, rows: rows,
      footnotes: [
        "Each row merges the intervals of its complete cells; '-' means no sample."
      ])
  }
}
