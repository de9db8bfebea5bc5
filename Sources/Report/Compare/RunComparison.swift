import Vocabulary

/// What a comparison of one figure can say.
public enum Significance: String, Sendable, Equatable {
  /// The exact rank test of the repetitions rejects "no difference" at the 5 % level.
  case significant
  /// It does not.
  case notSignificant = "not significant"
  /// The runs are too short to tell: too few repetitions for any data to reach the 5 %
  /// level, one repetition (no run-to-run variation measured), or a percentile held by
  /// fewer samples than it needs.
  case inconclusive
}

/// One figure of one (mode, point) in every run compared.
public struct ComparisonCell: Sendable, Equatable {
  /// The run's value, nil when that run has no valid cell there.
  public var value: Double?
  /// Change against the baseline as a fraction, signed so that positive is better.
  public var change: Double?
  /// The rank test's p-value of the run against the baseline; nil when not tested.
  public var pValue: Double?
  public var significance: Significance
  /// The run's figure came from fewer samples than its percentile needs.
  public var tooFewSamples = false

  /// Whether the change is significant.
  public var significant: Bool { significance == .significant }
}

/// One row: a metric of one group across runs (index 0 is the baseline).
public struct ComparisonRow: Sendable, Equatable {
  public var key: GroupKey
  public var label: String
  /// `50.0th` … for latency, `rps` for throughput.
  public var metric: String
  public var lowerIsBetter: Bool
  public var cells: [ComparisonCell]
}

/// mmtests-style comparison of runs against a baseline.
public struct RunComparison: Sendable {
  /// Run ids, baseline first.
  public var runs: [String]
  public var phase: PhaseSelection
  public var rows: [ComparisonRow]
  /// Set-up that differs between the runs, one sentence each.
  public var setupDifferences: [String]
  /// Groups that not every run has, as `label (point)`.
  public var notShared: [String]
  /// Allowed worsening, as a fraction (0.10 for `10%`).
  public var threshold: Double
  /// Per run, the measure host's kernel (`lpar1: kernel R, cmdline '…'`) when the runs'
  /// kernels or command lines differ (an A/B of kernels on ssh hosts, rebooted between
  /// runs); empty when they are the same.
  public var kernels: [String] = []

  /// Rows where some run's change could not be judged (`Significance.inconclusive`).
  public var inconclusive: [ComparisonRow] {
    rows.filter { row in row.cells.dropFirst().contains { $0.significance == .inconclusive } }
  }

  /// Rows whose change is significant and worse than the threshold.
  public var regressions: [ComparisonRow] {
    rows.filter { row in
      row.cells.dropFirst().contains { cell in
        cell.significant && (cell.change ?? 0) < -threshold
      }
    }
  }

  /// Compares `analyses` (the first is the baseline) on the (mode, point) groups they share.
  ///
  /// Each analysis must have been made with the same phase; give each a different
  /// seed so their bootstrap replicates are independent.
  public static func compare(_ analyses: [RunAnalysis], threshold: Double) -> RunComparison {
    let baseline = analyses[0]
    var rows: [ComparisonRow] = []
    var notShared: [String] = []
    var allKeys = baseline.groups.map(\.key)
    for analysis in analyses.dropFirst() {
      for group in analysis.groups where !allKeys.contains(group.key) {
        allKeys.append(group.key)
      }
    }
    for key in allKeys {
      let groups = analyses.map { $0.group(key.modeID, key.point) }
      let name =
        (groups.compactMap { $0?.label }.first ?? key.modeID)
        + (key.point.isEmpty ? "" : " (\(key.pointText))")
      guard groups.allSatisfy({ $0 != nil }) else {
        notShared.append(name)
        continue
      }
      let present = groups.map { $0! }
      for (index, p) in baseline.percentiles.enumerated()
      where analyses.allSatisfy({ $0.percentiles == baseline.percentiles }) {
        rows.append(
          row(
            key, present[0].label, PercentileKey(p).label, lowerIsBetter: true,
            present.map { $0.wakeup[index] }))
      }
      if present.allSatisfy({ $0.rps != nil }) {
        rows.append(
          row(key, present[0].label, "rps", lowerIsBetter: false, present.map(\.rps)))
      }
    }
    return RunComparison(
      runs: analyses.map(\.manifest.runID), phase: baseline.phase, rows: rows,
      setupDifferences: differences(analyses), notShared: notShared, threshold: threshold,
      kernels: kernelLegend(analyses))
  }

  /// What names each run's column when the measure host's kernel differs between runs.
  static func kernelLegend(_ analyses: [RunAnalysis]) -> [String] {
    let hosts = analyses.map { analysis in
      analysis.manifest.hosts.first { $0.role == "measure" } ?? analysis.manifest.hosts.first
    }
    let kernels = hosts.map { host in
      host.map { "\($0.name): kernel \($0.kernelRelease), cmdline '\($0.kernelCmdline)'" }
        ?? "no host recorded"
    }
    return Set(kernels).count > 1 ? kernels : []
  }

  static func row(
    _ key: GroupKey, _ label: String, _ metric: String, lowerIsBetter: Bool,
    _ estimates: [Estimate?]
  ) -> ComparisonRow {
    let cells = estimates.enumerated().map { index, estimate -> ComparisonCell in
      // No sample on either side: no value, no change, nothing to judge.
      guard index > 0, let base = estimates[0], let estimate else {
        return ComparisonCell(
          value: estimate?.value, change: nil, pValue: nil,
          significance: index > 0 ? .inconclusive : .notSignificant,
          tooFewSamples: estimate?.tooFewSamples ?? false)
      }
      let change: Double? =
        base.value == 0
        ? nil
        : (lowerIsBetter ? base.value - estimate.value : estimate.value - base.value) / base.value
      let (significance, p) = judge(base, estimate)
      return ComparisonCell(
        value: estimate.value, change: change, pValue: p, significance: significance,
        tooFewSamples: estimate.tooFewSamples)
    }
    return ComparisonRow(
      key: key, label: label, metric: metric, lowerIsBetter: lowerIsBetter, cells: cells)
  }

  /// The test level: a difference is significant when p ≤ 0.05.
  public static let level = 0.05

  /// Judges `estimate` against `base`: an exact two-sided Wilcoxon–Mann–Whitney
  /// permutation test of their repetitions' values, or inconclusive when the runs cannot
  /// tell (see `Significance`).
  static func judge(_ base: Estimate, _ estimate: Estimate) -> (Significance, Double?) {
    guard !base.tooFewSamples, !estimate.tooFewSamples,
      base.method == .repetitions, estimate.method == .repetitions,
      !base.cellValues.isEmpty, !estimate.cellValues.isEmpty
    else { return (.inconclusive, nil) }
    let test = Statistics.permutationTest(base.cellValues, estimate.cellValues, seed: 1)
    guard test.smallestP <= level else { return (.inconclusive, test.p) }
    return (test.p <= level ? .significant : .notSignificant, test.p)
  }

  /// Sentences naming the set-up that differs from the baseline.
  static func differences(_ analyses: [RunAnalysis]) -> [String] {
    let base = analyses[0].manifest
    var out: [String] = []
    for analysis in analyses.dropFirst() {
      let other = analysis.manifest
      let run = other.runID
      func check(_ what: String, _ a: String, _ b: String) {
        if a != b { out.append("\(what): '\(a)' in \(base.runID), '\(b)' in \(run).") }
      }
      check("experiment", base.experimentName, other.experimentName)
      check("pvbench version", base.pvbenchVersion, other.pvbenchVersion)
      check("schedule", base.scheduleDescription, other.scheduleDescription)
      check("repetitions", "\(base.repetitions)", "\(other.repetitions)")
      check(
        "modes", base.modes.map(\.id).joined(separator: ","),
        other.modes.map(\.id).joined(separator: ","))
      check("sweep", base.sweepKeys.joined(separator: ","), other.sweepKeys.joined(separator: ","))
      check(
        "report percentiles (latency rows not compared)",
        base.reportPercentiles.map { PercentileKey($0).key }.joined(separator: ","),
        other.reportPercentiles.map { PercentileKey($0).key }.joined(separator: ","))
      for host in base.hosts {
        guard let twin = other.hosts.first(where: { $0.name == host.name }) else {
          out.append("host \(host.name): only in \(base.runID).")
          continue
        }
        check("host \(host.name) kernel", host.kernelRelease, twin.kernelRelease)
        check("host \(host.name) kernel command line", host.kernelCmdline, twin.kernelCmdline)
        check(
          "host \(host.name) CPUs", "\(host.cores)x\(host.threadsPerCore)",
          "\(twin.cores)x\(twin.threadsPerCore)")
        check(
          "host \(host.name) entitlement", host.entitled.map(String.init) ?? "none",
          twin.entitled.map(String.init) ?? "none")
        check("host \(host.name) transport", host.transport, twin.transport)
      }
      for host in other.hosts where !base.hosts.contains(where: { $0.name == host.name }) {
        out.append("host \(host.name): only in \(run).")
      }
    }
    return out
  }

  /// The comparison as text tables within 72 columns, the method named under them.
  public func text() -> String {
    var out = "pvbench compare, \(phase.rawValue) phase; baseline \(runs[0])\n"
    for (index, run) in runs.enumerated() {
      out += "  \(Self.runLetter(index)) = \(run)\(index == 0 ? " (baseline)" : "")\n"
      if index < kernels.count {
        out += wrap(kernels[index], width: 66).map { "      " + $0 + "\n" }.joined()
      }
    }
    var keys: [GroupKey] = []
    for row in rows where !keys.contains(row.key) { keys.append(row.key) }
    for key in keys {
      let block = rows.filter { $0.key == key }
      let title =
        "\(block[0].label)" + (key.point.isEmpty ? "" : ", \(key.pointText)")
        + ": wakeup latency (usec) and rps"
      let header = [""] + runs.indices.map { Self.runLetter($0) }
      let tableRows = block.map { row in
        [row.metric]
          + row.cells.enumerated().map { index, cell in
            let value =
              (cell.value.map { row.lowerIsBetter ? Format.micros($0) : Format.rate($0) } ?? "-")
              + (cell.tooFewSamples ? Format.thinMark : "")
            guard index > 0, let change = cell.change else { return value }
            let mark =
              switch cell.significance {
              case .significant: "*"
              case .inconclusive: "~"
              case .notSignificant: ""
              }
            return "\(value) (\(Format.change(change)))\(mark)"
          }
      }
      out += "\n" + TextTable(title: title, header: header, rows: tableRows).text(width: 72)
    }
    var notes = [
      "Change: positive is better (lower latency, higher rps). * = significant: an exact "
        + "two-sided Wilcoxon-Mann-Whitney test of the repetitions (every split of the pooled "
        + "repetitions) gives p <= 0.05. ~ = inconclusive: the runs are too short to tell "
        + "(with 3 repetitions each no data can reach p <= 0.05; 4 each can), one "
        + "repetition (no run-to-run variation measured), or ?: fewer samples than the "
        + "percentile needs (the 99.9th needs 1000). Regression: significant and worse than "
        + Format.percent(threshold * 100) + "."
    ]
    if !notShared.isEmpty {
      notes.append("Not in every run, not compared: " + notShared.joined(separator: "; ") + ".")
    }
    if !setupDifferences.isEmpty {
      notes.append("Set-up differs:")
      notes.append(contentsOf: setupDifferences.map { "- " + $0 })
    }
    let regressed = regressions
    let unclear = inconclusive
    if !unclear.isEmpty {
      notes.append(
        "Inconclusive: " + unclear.map { "\($0.label) \($0.metric)" }.joined(separator: ", ")
          + ".")
    }
    notes.append(
      regressed.isEmpty
        ? "No regression beyond the threshold."
        : "Regressions beyond the threshold: "
          + regressed.map { "\($0.label) \($0.metric)" }.joined(separator: ", ") + ".")
    out += "\n" + notes.flatMap { wrap($0, width: 72) }.joined(separator: "\n") + "\n"
    return out
  }

  static func runLetter(_ index: Int) -> String {
    index < 26 ? String(UnicodeScalar(UInt8(65 + index))) : "R\(index + 1)"
  }
}
