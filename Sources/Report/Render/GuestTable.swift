import Foundation

extension ReportRenderer {
  /// Per sweep point, what every host received under each mode: the figures that say what
  /// folding guests gain and what the guests beside them lose. None when the run has no
  /// host-side figures and only one host with samples.
  func guestTables() -> [TextTable] {
    let summaries = analysis.guests
    let names = Set(summaries.flatMap(\.hosts.keys))
    let hostSide = summaries.contains { $0.hosts.values.contains { $0.cpusReceived != nil } }
    guard hostSide || names.count > 1 else { return [] }
    let roles = Dictionary(
      analysis.manifest.hosts.map { ($0.name, $0.role) }, uniquingKeysWith: { first, _ in first })
    let order = ["measure": 0, "noise": 1, "fold": 2]
    let hosts = names.sorted {
      (order[roles[$0] ?? ""] ?? 3, $0) < (order[roles[$1] ?? ""] ?? 3, $1)
    }
    let modes = analysis.modesWithData
    let measure = analysis.manifest.hosts.first { $0.role == "measure" }?.name ?? "the measure host"
    let folds = modes.filter { $0.kind != .outOfBox }.map { mode in
      "\(mode.label): " + (mode.hosts ?? [measure]).joined(separator: ", ")
    }
    let phase = analysis.phase.rawValue
    var tables: [TextTable] = []
    for point in analysis.points {
      let byMode = Dictionary(
        summaries.filter { $0.key.point == point }.map { ($0.key.modeID, $0) },
        uniquingKeysWith: { first, _ in first })
      guard !byMode.isEmpty else { continue }
      var rows: [[String]] = []
      for name in hosts {
        let label = roles[name].map { "\(name) (\($0))" } ?? name
        let figures: [(String, (GuestFigure) -> String?)] = [
          ("CPUs got", { $0.cpusReceived.map { String(format: "%.2f", $0) } }),
          ("steal", { $0.stealPercent.map(Format.wholePercent) }),
          ("busy", { $0.busyPercent.map(Format.wholePercent) }),
        ]
        var named = false
        for (figure, value) in figures {
          let cells = modes.map { mode in byMode[mode.id]?.hosts[name].flatMap(value) ?? "-" }
          guard cells.contains(where: { $0 != "-" }) else { continue }
          if !named { rows.append([label] + modes.map { _ in "" }) }
          rows.append(["  " + figure] + cells)
          named = true
        }
      }
      guard !rows.isEmpty else { continue }
      let title =
        "Guests, \(phase) phase" + (analysis.points.count > 1 ? ", \(sweepLabel(point))" : "")
      tables.append(
        TextTable(
          title: title, header: ["host, figure"] + modes.map(\.label), rows: rows,
          footnotes: [
            "CPUs got: host CPUs' worth of time this machine gave the guest's vCPU threads "
              + "(QEMU's, from /proc/<pid>/task/<tid>/schedstat); steal: their mean run-queue "
              + "wait, % of wall time; busy: the host's own CPUs busy, % of those online "
              + "(/proc/stat). Medians over cells; windows within the settle time of a noise "
              + "edge are left out."
              + (folds.isEmpty ? "" : " Hosts folded: " + folds.joined(separator: "; ") + ".")
          ]))
    }
    return tables
  }
}
