import Foundation

/// Renders a plan as the table `pvbench plan` prints, or as JSON.
package enum PlanPrinter {
  package static func text(_ plan: ExperimentPlan) -> String {
    let experiment = plan.experiment
    let points = plan.loaded.points.count
    var out = "Experiment \(experiment.name) (\(plan.loaded.path))\n"
    if let description = experiment.description, !description.isEmpty {
      out += "  \(description.trimmingCharacters(in: .whitespacesAndNewlines))\n"
    }
    out +=
      "  \(plan.cells.count) cells = \(experiment.modes.count) modes x \(points) sweep "
      + "point\(points == 1 ? "" : "s") x \(experiment.repetitions) repetition"
      + "\(experiment.repetitions == 1 ? "" : "s")\n"
    out +=
      "  estimated \(duration(plan.totalSeconds)) in total "
      + "(setup \(duration(plan.setupSeconds)))\n\n"

    let sweepKeys = plan.loaded.points.first?.values.map(\.key) ?? []
    var header = ["CELL", "MODE"] + sweepKeys + ["REP", "EST"]
    var rows: [[String]] = []
    for cell in plan.cells {
      rows.append(
        [cell.id, cell.modeLabel] + cell.point.map(\.value)
          + ["\(cell.repetition)", duration(cell.estimatedSeconds)])
    }
    if rows.isEmpty { header = ["(no cells)"] }
    out += table([header] + rows)

    out += "\nKnobs:\n"
    let hostWidth = plan.knobs.map { "\($0.host) (\($0.role))".count }.max() ?? 0
    for knob in plan.knobs {
      let host = "\(knob.host) (\(knob.role))"
      out += "  \(host.padding(toLength: hostWidth, withPad: " ", startingAt: 0))  "
      out += "\(knob.mode): \(knob.change); \(knob.when)\n"
    }
    return out
  }

  package static func json(_ plan: ExperimentPlan) throws -> String {
    struct Document: Encodable {
      package var experiment: String
      package var file: String
      package var cells: [Cell]
      package var setupSeconds: Double
      package var totalSeconds: Double
      package var knobs: [Knob]
    }
    let document = Document(
      experiment: plan.experiment.name, file: plan.loaded.path, cells: plan.cells,
      setupSeconds: plan.setupSeconds, totalSeconds: plan.totalSeconds, knobs: plan.knobs)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
  }

  /// Left-aligned columns separated by two spaces, no trailing spaces.
  package static func table(_ rows: [[String]]) -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = Array(repeating: 0, count: columns)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    return rows.map { row in
      row.enumerated().map { index, cell in
        index == row.count - 1
          ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
      }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
  }

  /// `42s`, `4m 12s`, `1h 02m`.
  package static func duration(_ seconds: Double) -> String {
    let total = Int(seconds.rounded())
    if total < 60 { return "\(total)s" }
    if total < 3600 { return String(format: "%dm %02ds", total / 60, total % 60) }
    return String(format: "%dh %02dm", total / 3600, (total % 3600) / 60)
  }
}
