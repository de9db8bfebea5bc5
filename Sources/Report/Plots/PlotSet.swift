import Foundation
import LinuxHost
import Results
import Vocabulary

/// One gnuplot figure: its script body and the data files it reads.
public struct Plot: Sendable, Equatable {
  /// File stem: `NAME.gp`, `NAME.dat`, `NAME.png`, `NAME.svg`.
  public var name: String
  /// What the figure shows, for HTML captions.
  public var caption: String
  /// The plot commands, without terminal or output (added per format).
  public var body: String
  /// The data file content (`NAME.dat`).
  public var data: String

  /// The whole `.gp` file: draws `NAME.png` with `pngTerminal`, then `NAME.svg`.
  public func script(pngTerminal: String) -> String {
    """
    # \(caption)
    # Written by pvbench report; redraw with: gnuplot \(name).gp
    set terminal \(pngTerminal) size 960,600 noenhanced
    set output '\(name).png'
    \(body)
    set terminal svg size 960,600 noenhanced dynamic background rgb 'white'
    set output '\(name).svg'
    replot
    unset output

    """
  }
}

/// Builds the report's gnuplot figures from an analysis (and the timeline cell's records).
public enum PlotSet {
  /// Dash types, point types and fill patterns that keep lines apart in grey-scale.
  static func style(_ index: Int) -> String {
    "dt \(index % 5 + 1) pt \(index % 13 + 1) lw 2 lc rgb '\(greys[index % greys.count])'"
  }
  static let greys = ["#000000", "#404040", "#707070", "#202020", "#909090", "#555555"]

  static func quote(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
  }

  /// The figures of a run, and what was left out of them for want of data.
  public struct Figures: Sendable, Equatable {
    public var plots: [Plot]
    /// One sentence per series or figure left out because it has no sample.
    public var skipped: [String]
  }

  /// Every figure for the run: percentiles and nines per point, the sweep, one timeline.
  ///
  /// A mode without a wakeup sample in the phase is left out of a figure (gnuplot cannot
  /// draw an empty series), and a figure with no series left is not drawn; `skipped` says
  /// which, so no figure silently shows less than the tables.
  public static func figures(for analysis: RunAnalysis, store: RunStore?) -> Figures {
    var plots: [Plot] = []
    var skipped: [String] = []
    let renderer = ReportRenderer(analysis)
    let many = analysis.points.count > 1
    let phase = analysis.phase.rawValue
    for (number, point) in analysis.points.enumerated() {
      let all = renderer.groups(at: point)
      guard !all.isEmpty else { continue }
      let groups = all.filter { $0.noDataReason == nil }
      let suffix = many ? "-\(number + 1)" : ""
      let pointText = renderer.pointSuffix(point)
      let names = ["percentiles\(suffix)", "nines\(suffix)"]
      let empty = all.filter { $0.noDataReason != nil }.map(\.label)
      if groups.isEmpty {
        skipped.append(
          "\(names.joined(separator: " and ")) not drawn: no mode has a wakeup sample in the "
            + "\(phase) phase\(pointText).")
        continue
      }
      if !empty.isEmpty {
        skipped.append(
          "\(names.joined(separator: " and ")) leave out \(empty.joined(separator: ", ")): "
            + "no wakeup sample in the \(phase) phase\(pointText).")
      }
      plots.append(percentiles(analysis, groups, name: names[0], pointText))
      plots.append(nines(analysis, groups, name: names[1], pointText))
    }
    if many {
      if let sweep = sweep(analysis, renderer) {
        plots.append(sweep)
      } else {
        skipped.append("sweep not drawn: no mode has a wakeup sample at any sweep point.")
      }
      let intensity = intensity(analysis)
      plots.append(contentsOf: intensity.plots)
      skipped.append(contentsOf: intensity.skipped)
    }
    if let id = analysis.timelineCellID, let store,
      let stored = store.cells.first(where: { $0.id == id }),
      let cell = try? store.withIntervals(stored)
    {
      if cell.intervals.contains(where: { $0.wakeup.total > 0 }) {
        plots.append(timeline(analysis, cell))
      } else {
        skipped.append("timeline not drawn: cell \(id) has no wakeup sample in any interval.")
      }
    }
    return Figures(plots: plots, skipped: skipped)
  }

  /// Every figure for the run (see `figures(for:store:)`).
  public static func plots(for analysis: RunAnalysis, store: RunStore?) -> [Plot] {
    figures(for: analysis, store: store).plots
  }

  static func percentiles(
    _ analysis: RunAnalysis, _ groups: [GroupStats], name: String, _ pointText: String
  ) -> Plot {
    var data = "# percentile" + groups.map { " \(quote($0.label)) lo hi" }.joined() + "\n"
    data += "# wakeup latency in microseconds: median, 95% interval low, high\n"
    for (index, p) in analysis.percentiles.enumerated() {
      data += "\"\(PercentileKey(p).label)\""
      for group in groups {
        // `?` is gnuplot's missing value: a bar left out, never drawn at zero.
        data +=
          group.wakeup[index].map {
            " \(dataNumber($0.value)) \(dataNumber($0.low)) \(dataNumber($0.high))"
          } ?? " ? ? ?"
      }
      data += "\n"
    }
    let series = groups.enumerated().map { index, group in
      let using =
        index == 0 ? "2:3:4:xtic(1)" : "\(2 + 3 * index):\(3 + 3 * index):\(4 + 3 * index)"
      return
        "\(index == 0 ? quote(name + ".dat") : "''") using \(using) title \(quote(group.label))"
        + " fs pattern \(index % 8) lc rgb '\(greys[index % greys.count])'"
    }
    let body = """
      set title \(quote("Wakeup latency by percentile and mode, \(analysis.phase.rawValue) phase\(pointText)"))
      set xlabel 'percentile'
      set ylabel 'wakeup latency (usec, log scale)'
      set logscale y
      set grid ytics
      set key top left
      set datafile missing '?'
      set style data histograms
      set style histogram errorbars gap 2 lw 1
      set style fill pattern 0 border -1
      set boxwidth 0.9
      plot \(series.joined(separator: ", \\\n  "))
      """
    return Plot(
      name: name, caption: "Wakeup latency percentiles by mode (median, 95% interval)\(pointText)",
      body: body, data: data)
  }

  /// x position of a percentile on the nines axis: log10(1 / (1 − p)).
  public static func ninesX(_ percentile: Double) -> Double {
    log10(1 / max(1 - percentile / 100, 1e-9))
  }

  static func nines(
    _ analysis: RunAnalysis, _ groups: [GroupStats], name: String, _ pointText: String
  ) -> Plot {
    var data = "# x=log10(1/(1-p)) percentile" + groups.map { " \(quote($0.label))" }.joined()
    data += "\n# wakeup latency in microseconds over the pooled intervals of every valid cell\n"
    for (index, p) in RunAnalysis.ninesPercentiles.enumerated() {
      data += "\(dataNumber(ninesX(p))) \(dataNumber(p))"
      for group in groups { data += " \(dataNumber(group.nines[index].microseconds))" }
      data += "\n"
    }
    let series = groups.enumerated().map { index, group in
      "\(index == 0 ? quote(name + ".dat") : "''") using 1:\(index + 3) with linespoints "
        + "\(style(index)) title \(quote(group.label))"
    }
    let body = """
      set title \(quote("Wakeup latency by percentile (nines), \(analysis.phase.rawValue) phase\(pointText)"))
      set xlabel 'percentile (%)'
      set ylabel 'wakeup latency (usec, log scale)'
      set logscale y
      set grid
      set key top left
      set xrange [0:4]
      set xtics ('0' 0, '90' 1, '99' 2, '99.9' 3, '99.99' 4)
      plot \(series.joined(separator: ", \\\n  "))
      """
    return Plot(
      name: name, caption: "Latency by percentile: one line per mode\(pointText)", body: body,
      data: data)
  }

  static func sweep(_ analysis: RunAnalysis, _ renderer: ReportRenderer) -> Plot? {
    let chosen = analysis.percentiles.indices.filter { analysis.percentiles[$0] >= 99 }
    let columns = chosen.isEmpty ? Array(analysis.percentiles.indices.suffix(2)) : chosen
    // A mode with no sample at any point would be an empty series: gnuplot refuses those.
    let modes = analysis.modesWithData.filter { mode in
      analysis.groups.contains { $0.key.modeID == mode.id && $0.noDataReason == nil }
    }
    guard !modes.isEmpty else { return nil }
    var data = "# index point"
    for mode in modes {
      for index in columns {
        data += " \(quote("\(mode.label) \(PercentileKey(analysis.percentiles[index]).name)"))"
      }
    }
    data +=
      "\n# wakeup latency in microseconds (median across repetitions); ? = no valid cell or "
      + "no sample\n"
    for (number, point) in analysis.points.enumerated() {
      data += "\(number) \"\(renderer.sweepLabel(point))\""
      for mode in modes {
        for index in columns {
          data +=
            " "
            + (analysis.group(mode.id, point)?.wakeup[index].map { dataNumber($0.value) } ?? "?")
        }
      }
      data += "\n"
    }
    var series: [String] = []
    var column = 3
    for (modeIndex, mode) in modes.enumerated() {
      for (order, index) in columns.enumerated() {
        let source = series.isEmpty ? quote("sweep.dat") : "''"
        let xtic = series.isEmpty ? ":xtic(2)" : ""
        series.append(
          "\(source) using 1:\(column)\(xtic) with linespoints dt \(order + 1) pt \(modeIndex + 1)"
            + " lw 2 lc rgb '\(greys[modeIndex % greys.count])' title "
            + quote("\(mode.label) \(PercentileKey(analysis.percentiles[index]).name)"))
        column += 1
      }
    }
    let body = """
      set title \(quote("Tail wakeup latency against \(analysis.manifest.sweepKeys.joined(separator: " / ")), \(analysis.phase.rawValue) phase"))
      set xlabel \(quote(analysis.manifest.sweepKeys.joined(separator: " / ")))
      set ylabel 'wakeup latency (usec, log scale)'
      set logscale y
      set grid
      set key outside right
      set datafile missing '?'
      set offsets 0.3, 0.3, 0, 0
      plot \(series.joined(separator: ", \\\n  "))
      """
    return Plot(
      name: "sweep",
      caption:
        "Sweep: tail latency against \(analysis.manifest.sweepKeys.joined(separator: " / ")), "
        + "per mode",
      body: body, data: data)
  }

  static func timeline(_ analysis: RunAnalysis, _ cell: StoredCell) -> Plot {
    let intervals = cell.intervals.sorted { $0.index < $1.index }
    var data = "# time_s p99_wakeup_us steal_percent phase mode_applied\n"
    for interval in intervals {
      let middle = Double(interval.startNanoseconds + interval.endNanoseconds) / 2e9
      let p99 =
        interval.wakeup.total > 0 ? Double(interval.wakeup.value(atPercentile: 99)) / 1000 : nil
      data += "\(dataNumber(middle)) \(p99.map(dataNumber) ?? "?")"
      data += " \(interval.stealPercent.map(dataNumber) ?? "?") \(interval.phase.rawValue)"
      data += " \(interval.modeApplied ? 1 : 0)\n"
    }
    var objects: [String] = []
    var start: UInt64?
    var end: UInt64 = 0
    var number = 1
    func close() {
      if let begin = start {
        objects.append(
          "set object \(number) rect from \(dataNumber(Double(begin) / 1e9)), graph 0 to "
            + "\(dataNumber(Double(end) / 1e9)), graph 1 fillstyle solid 0.15 noborder "
            + "fc rgb '#808080' behind")
        number += 1
      }
      start = nil
    }
    for interval in intervals {
      if interval.phase == .busy {
        if start == nil { start = interval.startNanoseconds }
        end = interval.endNanoseconds
      } else {
        close()
      }
    }
    close()
    var arrow = 1
    for event in cell.events where event.kind == .modeApply || event.kind == .modeRestore {
      let x = dataNumber(Double(event.timeNanoseconds) / 1e9)
      let dash = event.kind == .modeApply ? 2 : 3
      objects.append(
        "set arrow \(arrow) from \(x), graph 0 to \(x), graph 1 nohead dt \(dash) lw 1 lc rgb '#000000'"
      )
      arrow += 1
    }
    // The preferred set as a share of the measure host's CPUs, a step line per source, in
    // further blocks of the data file (`index 1`, `index 2`).
    let measure = analysis.manifest.hosts.first { $0.role == "measure" }
    let online = measure.flatMap { CPUSet(parsing: $0.cpusOnline) }?.count
    var preferredSeries: [String] = []
    for source in PreferredSource.allCases {
      guard
        let line = PreferredTimeline(
          cell.events, source: source, host: measure?.name, online: online)
      else { continue }
      let end = max(intervals.last?.endNanoseconds ?? 0, line.steps.last?.time ?? 0)
      data += "\n\n# \(source.rawValue): time_s preferred_percent preferred_cpus\n"
      for step in line.steps + [PreferredTimeline.Step(time: end, count: line.steps.last!.count)] {
        let percent = line.all > 0 ? Double(step.count) * 100 / Double(line.all) : 0
        data += "\(dataNumber(Double(step.time) / 1e9)) \(dataNumber(percent)) \(step.count)\n"
      }
      let dash = source == .kernel ? 1 : 4
      preferredSeries.append(
        "'' index \(preferredSeries.count + 1) using 1:2 with steps dt \(dash) lw 2 "
          + "lc rgb '#1f5fa0' title 'preferred CPUs, \(source.rawValue) (% of \(line.all))' "
          + "axes x1y2")
    }
    let hasSteal = intervals.contains { $0.stealPercent != nil }
    let label = analysis.manifest.modes.first { $0.id == cell.summary?.modeID }?.label ?? "?"
    // `index 0`: the intervals are the file's first block; without it gnuplot also draws
    // the preferred-set blocks below as latency and steal.
    var series = [
      "\(quote("timeline.dat")) index 0 using 1:2 with linespoints dt 1 pt 7 ps 0.5 lw 2 "
        + "lc rgb '#000000' title 'p99 wakeup latency (usec)' axes x1y1"
    ]
    if hasSteal {
      series.append(
        "'' index 0 using 1:3 with lines dt 2 lw 2 lc rgb '#404040' title 'steal (%)' axes x1y2")
    }
    series += preferredSeries
    series.append("NaN with boxes fs solid 0.15 lc rgb '#808080' title 'busy phase'")
    series.append("NaN with lines dt 2 lc rgb '#000000' title 'mode applied'")
    series.append("NaN with lines dt 3 lc rgb '#000000' title 'mode restored'")
    let body = """
      set title \(quote("Timeline of cell \(cell.id) (\(label))"))
      set xlabel 'time since cell start (s)'
      set ylabel 'p99 wakeup latency per interval (usec, log scale)'
      set logscale y
      set y2label \(quote(preferredSeries.isEmpty ? "steal (%)" : "steal, preferred CPUs (%)"))
      set y2range [0:100]
      set y2tics
      set ytics nomirror
      set grid
      set key outside bottom center horizontal
      set datafile missing '?'
      \(objects.joined(separator: "\n"))
      plot \(series.joined(separator: ", \\\n  "))
      """
    return Plot(
      name: "timeline",
      caption:
        "Timeline of cell \(cell.id): per-interval p99, busy phases shaded, steal on the right "
        + "axis, mode apply (dashed) and restore (dotted)"
        + (preferredSeries.isEmpty
          ? "" : ", the preferred CPUs (kernel: solid, pvbench's governor: dashed) as % of all"),
      body: body, data: data)
  }
}
