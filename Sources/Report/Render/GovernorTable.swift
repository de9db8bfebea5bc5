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
          + "with how many edges saw one, of those that left one to make. idle fold: share of the noise host's "
          + "idle time with a core still folded. <entitled: share of busy "
          + "intervals where the CPUs not avoided times (1 - steal) fell below "
          + "the entitled CPUs (steal is the host's aggregate figure)."
      ])
  }

  /// `1.2s 3/4`: the median reaction and how many edges had one; `- 0/4` without one.
  static func reaction(_ seconds: Double?, _ reacted: Int, _ edges: Int) -> String {
    (seconds.map { String(format: "%.1fs", $0) } ?? "-") + " \(reacted)/\(edges)"
  }
}
