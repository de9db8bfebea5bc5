import Foundation
import Results
import Vocabulary

/// The series' three-column layout (issue 23): a run over two kernels (a baseline and one
/// carrying the series) with the modes `out-of-box` and `preferred` reads as `baseline |
/// built, not loaded | loaded`. The renderer recognises that shape; no experiment key
/// asks for it.
extension ReportRenderer {
  /// One column of the layout: a kernel and a mode.
  struct SeriesColumn {
    var title: String
    var kernel: KernelConfiguration
    var mode: ModeRecord
  }

  /// The three columns when the run has the shape: two kernels swept, modes exactly
  /// out-of-box and preferred. Else nil.
  var seriesColumns: [SeriesColumn]? {
    let modes = analysis.manifest.modes
    let kernels = kernelConfigurations
    guard kernels.count == 2, modes.count == 2,
      let outOfBox = modes.first(where: { $0.kind == .outOfBox }),
      let preferred = modes.first(where: { $0.kind == .preferred })
    else { return nil }
    return [
      SeriesColumn(title: "baseline", kernel: kernels[0], mode: outOfBox),
      SeriesColumn(title: "built, not loaded", kernel: kernels[1], mode: outOfBox),
      SeriesColumn(title: "loaded", kernel: kernels[1], mode: preferred),
    ]
  }

  /// The measure host's kernel at a configuration (its first host when none measures).
  private func measureKernel(_ configuration: KernelConfiguration) -> KernelRecord {
    let measure = analysis.manifest.hosts.first { $0.role == "measure" }?.name
    return configuration.records.first { $0.host == measure } ?? configuration.records[0]
  }

  /// One header line per column: its kernel's release and command line on the measure
  /// host, and the module's parameters for the loaded column.
  func seriesHeaderLines() -> [String]? {
    guard let columns = seriesColumns else { return nil }
    return columns.map { column in
      let record = measureKernel(column.kernel)
      let module =
        column.mode.kind == .preferred
        ? "steal_governor loaded ("
          + (column.mode.moduleParameters ?? "parameters not recorded") + ")"
        : "steal_governor not loaded"
      return "\(column.title) (\(column.kernel.label), "
        + GroupKey(modeID: "", point: column.kernel.point).pointText + "): "
        + "\(record.host) \(record.kernelRelease), cmdline '\(record.kernelCmdline)'; "
        + "\(column.mode.label): \(module)"
    }
  }

  /// Wakeup and request latency percentiles and rps in the three columns, one table per
  /// value of the sweep's other keys; nil when the run lacks the shape.
  func seriesTables() -> [TextTable]? {
    guard let columns = seriesColumns else { return nil }
    func rest(of point: [String: String]) -> [String: String] {
      point.filter { !GuestBootKey.choosesKernel($0.key) }
    }
    func matches(_ point: [String: String], _ kernel: KernelConfiguration) -> Bool {
      kernel.point.allSatisfy { point[$0.key] == $0.value }
    }
    var others: [[String: String]] = []
    let allPoints =
      analysis.points + analysis.excluded.compactMap(\.point)
    for point in allPoints where !others.contains(rest(of: point)) {
      others.append(rest(of: point))
    }
    return others.map { other in
      let groups = columns.map { column -> GroupStats? in
        analysis.points.first { rest(of: $0) == other && matches($0, column.kernel) }
          .flatMap { analysis.group(column.mode.id, $0) }
      }
      return seriesTable(columns: columns, groups: groups, other: other)
    }
  }

  /// `—` for a column with no valid cell; the table says why under it.
  static let seriesNoData = "—"

  private func seriesTable(columns: [SeriesColumn], groups: [GroupStats?], other: [String: String])
    -> TextTable
  {
    let phase = analysis.phase.rawValue
    let percentiles = analysis.percentiles
    // A column without a valid cell, or whose cells hold no sample in the phase, shows `—`.
    let usable = groups.map { group in group.flatMap { $0.noDataReason == nil ? $0 : nil } }
    func cell(_ index: Int, _ value: (GroupStats) -> String) -> String {
      usable[index].map(value) ?? Self.seriesNoData
    }
    var rows: [[String]] = []
    for (index, p) in percentiles.enumerated() {
      rows.append(
        ["wakeup " + PercentileKey(p).name]
          + columns.indices.map { column in cell(column) { Format.micros($0.wakeup[index]) } })
    }
    for (index, p) in percentiles.enumerated() {
      rows.append(
        ["request " + PercentileKey(p).name]
          + columns.indices.map { column in cell(column) { Format.micros($0.request[index]) } })
    }
    rows.append(
      ["rps"]
        + columns.indices.map { column in
          cell(column) { $0.rps.map { Format.rate($0.value) } ?? Format.noData }
        })
    var footnotes: [String] = []
    if let baseline = usable[0], let built = usable[1] {
      func cost(_ ours: Estimate?, _ theirs: Estimate?) -> String? {
        guard let ours, let theirs, theirs.value > 0 else { return nil }
        return String(format: "%+.1f %%", (ours.value - theirs.value) / theirs.value * 100)
      }
      var parts: [String] = []
      for (index, p) in percentiles.enumerated() {
        if let change = cost(built.wakeup[index], baseline.wakeup[index]) {
          parts.append((parts.isEmpty ? "wakeup " : "") + "\(PercentileKey(p).name) \(change)")
        }
      }
      if let change = cost(built.rps, baseline.rps) { parts.append("rps \(change)") }
      if !parts.isEmpty {
        footnotes.append(
          "framework's cost (built, not loaded vs baseline): "
            + parts.joined(separator: ", "))
      }
    }
    for (index, column) in columns.enumerated() where usable[index] == nil {
      footnotes.append(
        "\(Self.seriesNoData) \(column.title): " + noCellReason(column, group: groups[index])
          + ".")
    }
    footnotes.append(
      "Columns: \(columns[0].kernel.label) \(columns[0].mode.label), "
        + "\(columns[1].kernel.label) \(columns[1].mode.label), "
        + "\(columns[2].kernel.label) \(columns[2].mode.label) (kernels in the header); "
        + "\(repetitionText(usable.compactMap { $0 })).")
    return TextTable(
      title: "Series layout (usec, rps), \(phase) phase" + pointSuffix(other),
      header: [""] + columns.map(\.title), rows: rows, footnotes: footnotes)
  }

  /// Why a column has no figure: its group's reason, else the reasons of its excluded
  /// cells, else that no cell ran there.
  private func noCellReason(_ column: SeriesColumn, group: GroupStats?) -> String {
    if let reason = group?.noDataReason { return reason }
    let cells = analysis.excluded.filter { cell in
      cell.modeID == column.mode.id
        && cell.point.map { point in
          column.kernel.point.allSatisfy { point[$0.key] == $0.value }
        } == true
    }
    let reasons = Self.distinct(cells.flatMap(\.reasons))
    guard !reasons.isEmpty else { return "no valid cell" }
    let statuses = Self.distinct(cells.map(\.status)).joined(separator: "/")
    return "no valid cell (\(cells.count) \(statuses)): " + reasons.joined(separator: "; ")
  }
}
