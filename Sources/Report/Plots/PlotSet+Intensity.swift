import Foundation
import Results
import Vocabulary

extension PlotSet {
  /// One figure per report percentile (and per combination of the other swept keys) when
  /// a workload-intensity key is swept: latency against intensity, one line per mode with
  /// its interval as a band, the crossovers of folding modes with out-of-box marked, and
  /// the measure host's CPU busy % on the right axis.
  ///
  /// - Returns: the figures, and one sentence per figure left out for want of data.
  static func intensity(_ analysis: RunAnalysis) -> (plots: [Plot], skipped: [String]) {
    guard let sweep = IntensitySweep(analysis) else { return ([], []) }
    var plots: [Plot] = []
    var skipped: [String] = []
    let many = sweep.slices.filter { $0.points.count >= 2 }.count > 1
    for (number, slice) in sweep.slices.enumerated() where slice.points.count >= 2 {
      let suffix = many ? "-\(number + 1)" : ""
      let at =
        slice.others.isEmpty ? "" : ", " + GroupKey(modeID: "", point: slice.others).pointText
      // A mode without a sample at an intensity leaves a hole in its line: say where.
      let holes = slice.points.compactMap { entry -> String? in
        let missing = analysis.modesWithData.filter { mode in
          analysis.group(mode.id, entry.point)?.noDataReason != nil
            || analysis.group(mode.id, entry.point) == nil
        }.map(\.label)
        guard !missing.isEmpty else { return nil }
        return "\(missing.joined(separator: ", ")) at \(dataNumber(entry.intensity))"
      }
      if !holes.isEmpty {
        skipped.append(
          "intensity figures\(suffix) have no line for " + holes.joined(separator: "; ")
            + ": no wakeup sample in the \(analysis.phase.rawValue) phase\(at).")
      }
      for index in analysis.percentiles.indices {
        let name = "intensity-\(PercentileKey(analysis.percentiles[index]).name)\(suffix)"
        if let plot = intensity(analysis, sweep, slice, index, name: name, at: at) {
          plots.append(plot)
        } else {
          skipped.append(
            "\(name) not drawn: no mode has a wakeup sample in the \(analysis.phase.rawValue) "
              + "phase at any intensity\(at).")
        }
      }
    }
    return (plots, skipped)
  }

  static func intensity(
    _ analysis: RunAnalysis, _ sweep: IntensitySweep, _ slice: IntensitySweep.Slice,
    _ index: Int, name: String, at: String
  ) -> Plot? {
    let percentile = PercentileKey(analysis.percentiles[index]).name
    let phase = analysis.phase.rawValue
    // A mode without a value anywhere in the slice would be an empty series.
    let modes = analysis.modesWithData.filter { mode in
      slice.points.contains { analysis.group(mode.id, $0.point)?.wakeup[index] != nil }
    }
    guard !modes.isEmpty else { return nil }
    let busyModes = modes.filter { mode in
      slice.points.contains { analysis.group(mode.id, $0.point)?.measureBusyPercent != nil }
    }
    var data = "# \(sweep.key.rawValue)"
    for mode in modes { data += " \(quote(mode.label)) lo hi" }
    for mode in busyModes { data += " \(quote("\(mode.label) CPU busy %"))" }
    data +=
      "\n# wakeup \(percentile) in microseconds (median, interval low, high) per mode, then "
      + "the measure host's CPU busy % in the \(phase) phase; ? = no valid cell or no sample\n"
    for entry in slice.points {
      data += dataNumber(entry.intensity)
      for mode in modes {
        data +=
          analysis.group(mode.id, entry.point)?.wakeup[index].map {
            " \(dataNumber($0.value)) \(dataNumber($0.low)) \(dataNumber($0.high))"
          } ?? " ? ? ?"
      }
      for mode in busyModes {
        data +=
          " "
          + (analysis.group(mode.id, entry.point)?.measureBusyPercent.map(dataNumber) ?? "?")
      }
      data += "\n"
    }
    var series: [String] = []
    for (order, mode) in modes.enumerated() {
      let column = 2 + 3 * order
      let source = series.isEmpty ? quote(name + ".dat") : "''"
      series.append(
        "\(source) using 1:\(column + 1):\(column + 2) with filledcurves "
          + "fs transparent solid 0.15 noborder lc rgb '\(greys[order % greys.count])' notitle")
      series.append(
        "'' using 1:\(column) with linespoints \(style(order)) title \(quote(mode.label))")
    }
    for (order, mode) in busyModes.enumerated() {
      let column = 2 + 3 * modes.count + order
      let modeIndex = modes.firstIndex { $0.id == mode.id } ?? order
      series.append(
        "'' using 1:\(column) axes x1y2 with linespoints dt 3 pt \(modeIndex + 1) ps 0.7 lw 1 "
          + "lc rgb '\(greys[modeIndex % greys.count])' "
          + "title \(quote("\(mode.label) CPU busy (%)"))")
    }
    var objects: [String] = []
    let crossings = IntensitySweep.crossovers(analysis, slice, percentileIndex: index)
    for (number, crossing) in crossings.enumerated() {
      let x = dataNumber(crossing.intensity)
      objects.append(
        "set arrow \(number + 1) from \(x), graph 0 to \(x), graph 1 nohead dt 4 lw 1.5 "
          + "lc rgb '#000000'")
      objects.append(
        "set label \(number + 1) \(quote("\(crossing.label) \(crossing.stopsHelping ? "stops" : "starts") beating \(IntensitySweep.baseline(analysis)?.label ?? "out-of-box")")) "
          + "at \(x), graph \(dataNumber(0.97 - 0.06 * Double(number))) right offset -0.5,0 "
          + "font ',9'")
    }
    let logX = slice.logScale
    let low = slice.points.first!.intensity
    let high = slice.points.last!.intensity
    let margin = (high - low) * 0.05
    let range =
      logX
      ? "[\(dataNumber(low / 1.25)):\(dataNumber(high * 1.25))]"
      : "[\(dataNumber(low - margin)):\(dataNumber(high + margin))]"
    let body = """
      set title \(quote("Wakeup \(percentile) against workload intensity, \(phase) phase\(at)"))
      set xlabel \(quote(sweep.key.axisLabel + (logX ? ", log scale" : "")))
      set ylabel \(quote("wakeup \(percentile) (usec, log scale)"))
      set logscale y
      \(logX ? "set logscale x" : "unset logscale x")
      set y2label \(quote("measure host CPU busy (%), \(phase) phase"))
      set y2range [0:105]
      set y2tics
      set ytics nomirror
      set grid
      set key outside bottom center horizontal
      set datafile missing '?'
      set xrange \(range)
      \(objects.joined(separator: "\n"))
      plot \(series.joined(separator: ", \\\n  "))
      """
    return Plot(
      name: name,
      caption:
        "Wakeup \(percentile) against \(sweep.key.axisLabel)\(at): median per mode with its "
        + "interval as a band, crossovers with out-of-box marked (dotted), the measure host's "
        + "CPU busy % on the right axis",
      body: body, data: data)
  }
}
