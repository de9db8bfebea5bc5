import Foundation

extension ReportRenderer {
  /// The governor modes' behaviour: oscillation, reaction to the noise host's edges, and
  /// the capacity folding cost; nil without a governor mode.
  func governorTable() -> TextTable? {
    guard !analysis.governor.isEmpty else { return nil }
    let sweep = !analysis.manifest.sweepKeys.isEmpty
    let header =
      ["mode"] + (sweep ? ["point"] : [])
      + ["moves/min", "busy->fold", "idle->unfold", "idle fold", "<entitled"]
    let rows = analysis.governor.map { summary -> [String] in
      [summary.label] + (sweep ? [sweepLabel(summary.key.point)] : [])
        + [
          String(format: "%.1f", summary.movesPerMinute),
          Self.reaction(summary.busyReactionSeconds, summary.busyReacted, summary.busyEdges),
          Self.reaction(summary.idleReactionSeconds, summary.idleReacted, summary.idleEdges),
          summary.foldedWhileIdle.map { Format.percent($0 * 100) } ?? "-",
          summary.belowEntitlement.map { Format.percent($0 * 100) } ?? "-",
        ]
    }
    return TextTable(
      title: "Governor behaviour (all phases)",
      header: header, rows: rows,
      footnotes: [
        "moves/min: fold and unfold decisions per minute, median over cells "
          + "(oscillation). busy->fold, idle->unfold: median seconds from the "
          + "noise host's edge to the first fold or unfold before the next edge, "
          + "with how many edges saw one, of those that left one to make (a busy "
          + "edge has one to make until only the first housekeeping core is "
          + "preferred: the driver folds down to one core, past the entitlement). "
          + "idle fold: share of the noise host's idle time with a core still "
          + "folded. <entitled: share of busy intervals where the CPUs not avoided "
          + "times (1 - steal) fell below the entitled CPUs, the capacity folding "
          + "past the entitlement gave up (steal is the host's aggregate figure)."
      ])
  }

  /// The measure host's preferred CPUs over time, the kernel's (its `preferred` file) and
  /// pvbench's governor's side by side: folds per minute, the fewest CPUs preferred, the
  /// share of busy and idle time folded, and the kernel's push counter; nil when no cell
  /// recorded a preferred set.
  func preferredTable() -> TextTable? {
    guard !analysis.preferred.isEmpty else { return nil }
    let sweep = !analysis.manifest.sweepKeys.isEmpty
    let header =
      ["mode"] + (sweep ? ["point"] : [])
      + ["set", "folds/min", "fewest", "busy fold", "idle fold", "pushes"]
    let rows = analysis.preferred.map { summary -> [String] in
      var row: [String] = [summary.label]
      if sweep { row.append(sweepLabel(summary.key.point)) }
      let busy: String = summary.foldedBusy.map { Format.percent($0 * 100) } ?? "-"
      let idle: String = summary.foldedIdle.map { Format.percent($0 * 100) } ?? "-"
      let pushes: String = summary.pushes.map { String(format: "%.0f", $0) } ?? "-"
      row += [
        summary.source.rawValue, String(format: "%.1f", summary.foldsPerMinute),
        "\(summary.fewest)/\(summary.all)", busy, idle, pushes,
      ]
      return row
    }
    var notes = [
      "set: kernel = /sys/devices/system/cpu/preferred as the agent read it "
        + "with each sample; pvbench = the governor's preferred set after each "
        + "step. folds/min: steps that shrank the set, per minute, median over "
        + "cells. fewest: the fewest CPUs preferred of all online. busy fold, "
        + "idle fold: share of the noise host's busy and idle time with fewer "
        + "than all CPUs preferred. pushes: nr_migrations_cpu_non_preferred of "
        + "the workload's threads at the cell's end, median over cells."
    ]
    var said = Set<String>()
    for summary in analysis.preferred {
      guard let note = summary.pushNote, said.insert(note).inserted else { continue }
      notes.append("\(summary.label): \(note).")
    }
    return TextTable(
      title: "Preferred CPUs over time (measure host)", header: header, rows: rows,
      footnotes: notes)
  }

  /// `1.2s 3/4`: the median reaction and how many edges had one; `- 0/4` without one.
  static func reaction(_ seconds: Double?, _ reacted: Int, _ edges: Int) -> String {
    (seconds.map { String(format: "%.1fs", $0) } ?? "-") + " \(reacted)/\(edges)"
  }
}
