import Foundation
import Results
import Vocabulary

/// Output formats of `pvbench report`.
public enum ReportFormat: String, Sendable, CaseIterable {
  case text, markdown, csv, json, html
}

/// Turns a `RunAnalysis` into tables and text.
public struct ReportRenderer: Sendable {
  public var analysis: RunAnalysis

  public init(_ analysis: RunAnalysis) {
    self.analysis = analysis
  }

  /// The set-up a reviewer needs to reproduce the run, one item per line.
  public func headerLines() -> [String] {
    let manifest = analysis.manifest
    var lines = [
      "pvbench report: \(manifest.experimentName), run \(manifest.runID)",
      "pvbench \(manifest.pvbenchVersion)"
        + (manifest.environment?.pvbenchCommit.map { " (commit \($0))" } ?? "")
        + "; started \(manifest.startedAt)" + (manifest.endedAt.map { ", ended \($0)" } ?? ""),
      "command: " + manifest.commandLine.map(Self.shellQuote).joined(separator: " "),
    ]
    for host in manifest.hosts {
      let cpus = host.cores * host.threadsPerCore
      let entitled = host.entitled.map { ", entitled \($0) cores" } ?? ""
      lines.append(
        "host \(host.name) (\(host.role), \(host.transport)): kernel \(host.kernelRelease), "
          + "\(cpus) CPUs (\(host.cores) cores x \(host.threadsPerCore) threads, online "
          + "\(host.cpusOnline))\(entitled)")
    }
    if let environment = manifest.environment {
      // The controller's machine is the hypervisor of qemu guests: say so, with QEMU.
      let guests = environment.accelerator != nil || environment.qemuVersion != nil
      var line =
        (guests ? "hypervisor host" : "controller host")
        + ": \(environment.controllerCPUModel), kernel \(environment.controllerKernel)"
      if guests {
        line +=
          "; \(environment.qemuVersion ?? "QEMU version unknown"), "
          + (environment.accelerator ?? "accelerator unknown")
      }
      lines.append(line)
      if let pool = environment.pool {
        lines += Self.poolLines(pool, sweepKeys: manifest.sweepKeys)
      } else if let model = environment.poolModel {
        lines.append("pool model: " + (PoolModel(rawValue: model)?.summary ?? model))
      }
    }
    lines += seriesHeaderLines() ?? kernelHeaderLines()
    if let workload = manifest.workload {
      lines.append("workload: \(workload.schbenchCommandLine)")
    }
    lines.append(
      "modes: " + manifest.modes.map { "\($0.label) (\($0.kind.rawValue))" }.joined(separator: ", ")
    )
    lines.append("schedule: \(manifest.scheduleDescription)")
    if !manifest.sweepKeys.isEmpty {
      lines.append("sweep: " + manifest.sweepKeys.joined(separator: ", "))
    }
    lines.append(
      "repetitions: \(manifest.repetitions) per point; phase: \(analysis.phase.rawValue)")
    return lines
  }

  /// The modes that have data at `point`, in manifest order.
  func groups(at point: [String: String]) -> [GroupStats] {
    analysis.modesWithData.compactMap { analysis.group($0.id, point) }
  }

  /// Title suffix naming the point, or nothing without a sweep.
  func pointSuffix(_ point: [String: String]) -> String {
    point.isEmpty ? "" : ", " + GroupKey(modeID: "", point: point).pointText
  }

  /// Every table of the report, in print order.
  public func tables() -> [TextTable] {
    var tables = seriesTables() ?? kernelTables()
    for point in analysis.points {
      tables += pointTables(point)
    }
    tables += sweepTables()
    if let verdicts = verdictTable() { tables.append(verdicts) }
    tables += guestTables()
    if let timings = modeTimingTable() { tables.append(timings) }
    if let governor = governorTable() { tables.append(governor) }
    if let preferred = preferredTable() { tables.append(preferred) }
    if let expected = expectedNumbersTable() { tables.append(expected) }
    if let excluded = excludedTable() { tables.append(excluded) }
    return tables
  }

  /// The tables of one point: wakeup latency, its intervals, request latency, the requests
  /// done (with a fixed rate), throughput and steal; none when no mode has data there.
  private func pointTables(_ point: [String: String]) -> [TextTable] {
    let groups = groups(at: point)
    guard !groups.isEmpty else { return [] }
    let noData = noDataNotes(groups)
    var tables = [
      wakeupTable(groups, point: point, noData: noData),
      wakeupIntervalTable(groups, point: point, noData: noData),
      requestLatencyTable(groups, point: point, noData: noData),
    ]
    if let requests = requestTable(groups, point: point) { tables.append(requests) }
    tables.append(throughputTable(groups, point: point))
    return tables
  }

  /// The point's wakeup latency percentiles per mode, with the sample, interval and gap
  /// counts under them.
  private func wakeupTable(_ groups: [GroupStats], point: [String: String], noData: [String])
    -> TextTable
  {
    let phase = analysis.phase.rawValue
    let counts = [
      ["samples"] + groups.map { "\($0.wakeupSamples)" },
      ["intervals"] + groups.map { "\($0.intervals)" },
      ["gaps"] + groups.map { $0.gaps.map { "\($0)" } ?? Format.noData },
    ]
    return TextTable(
      title: "Wakeup latency (usec), \(phase) phase, \(repetitionText(groups))"
        + pointSuffix(point),
      header: ["percentile"] + groups.map(\.label),
      rows: analysis.percentiles.indices.map { index in
        [PercentileKey(analysis.percentiles[index]).label]
          + groups.map { Format.micros($0.wakeup[index]) }
      } + counts,
      footnotes: noData + starvationNotes(groups)
        + [
          "samples, intervals, gaps: in the \(phase) phase, summed over the cells; gaps: "
            + "intervals the snapshot thread slept through, starved (their samples are in "
            + "the late interval)"
            + (groups.contains { $0.gaps == nil } ? "; -: not recorded by this store." : ".")
        ])
  }

  /// The interval of each wakeup latency percentile of the point, per mode.
  private func wakeupIntervalTable(
    _ groups: [GroupStats], point: [String: String], noData: [String]
  ) -> TextTable {
    TextTable(
      title: "Interval of the wakeup latency (usec)\(pointSuffix(point))",
      header: ["percentile"] + groups.map(\.label),
      rows: analysis.percentiles.indices.map { index in
        [PercentileKey(analysis.percentiles[index]).label]
          + groups.map { group in
            group.wakeup[index].map {
              Format.range($0) + ($0.tooFewSamples ? Format.thinMark : "")
            } ?? Format.noData
          }
      }, footnotes: noData + intervalNotes(groups))
  }

  /// The point's request latency percentiles per mode, with the sample counts under them.
  private func requestLatencyTable(
    _ groups: [GroupStats], point: [String: String], noData: [String]
  ) -> TextTable {
    TextTable(
      title: "Request latency (usec), \(analysis.phase.rawValue) phase\(pointSuffix(point))",
      header: ["percentile"] + groups.map(\.label),
      rows: analysis.percentiles.indices.map { index in
        [PercentileKey(analysis.percentiles[index]).label]
          + groups.map { Format.micros($0.request[index]) }
      } + [["samples"] + groups.map { "\($0.cells.reduce(0) { $0 + $1.requestSamples })" }],
      footnotes: noData)
  }

  /// The point's requests per second and the measure host's steal per phase, per mode.
  private func throughputTable(_ groups: [GroupStats], point: [String: String]) -> TextTable {
    let phase = analysis.phase.rawValue
    let stealSources = Set(groups.flatMap { $0.steal.map(\.source) }).subtracting([.none])
    return TextTable(
      title: "Throughput and steal\(pointSuffix(point))",
      header: [""] + groups.map(\.label),
      rows: [
        ["rps"] + groups.map { $0.rps.map { Format.rate($0.value) } ?? "-" },
        ["rps range"]
          + groups.map { group in
            group.rps.map { "\(Format.rate($0.low))-\(Format.rate($0.high))" } ?? "-"
          },
      ]
        + PhaseSelection.summaryKeys.map { name in
          ["steal " + name]
            + groups.map { group in
              group.steal.first { $0.phase == name }?.percent.map(Format.percent) ?? "-"
            }
        },
      footnotes: [
        "rps: median of each cell's mean over \(phase) intervals; rps range: "
          + (groups.compactMap(\.rps).first.map {
            Self.describeInterval($0, phase: phase).replacingOccurrences(
              of: "the median", with: "the median rps")
          } ?? "none.")
          + " Steal: the measure "
          + "host's mean steal % per phase, source: "
          + (stealSources.isEmpty
            ? "none (no steal accounting)"
            : stealSources.map(Self.describe).sorted().joined(separator: "; ")) + "."
      ])
  }

  /// With more than one point: one table per tail percentile (99th and up), the modes'
  /// wakeup latency at each point.
  private func sweepTables() -> [TextTable] {
    guard analysis.points.count > 1 else { return [] }
    let phase = analysis.phase.rawValue
    let modes = analysis.modesWithData
    return analysis.percentiles.indices.filter { analysis.percentiles[$0] >= 99 }.map { index in
      let label = PercentileKey(analysis.percentiles[index]).label
      return TextTable(
        title: "Sweep: \(label) wakeup latency (usec), \(phase) phase",
        header: ["point"] + modes.map(\.label),
        rows: analysis.points.map { point in
          [sweepLabel(point)]
            + modes.map { mode in
              Format.micros(analysis.group(mode.id, point)?.wakeup[index])
            }
        },
        footnotes: [
          "point: " + analysis.manifest.sweepKeys.joined(separator: " / ")
            + ". -: no valid cell, or no wakeup sample in the phase."
        ])
    }
  }

  /// How long each mode took to apply, restore and evacuate; nil without timed events.
  private func modeTimingTable() -> TextTable? {
    guard !analysis.timings.isEmpty else { return nil }
    return TextTable(
      title: "Mode switch times (ms)",
      header: ["mode", "action", "count", "median", "max"],
      rows: analysis.timings.map {
        [
          $0.label, $0.kind.rawValue, "\($0.count)", Format.millis($0.medianMilliseconds),
          Format.millis($0.maxMilliseconds),
        ]
      },
      footnotes: [
        "evacuated: from applying the mode until the avoided CPUs fall below 5 % busy."
      ])
  }

  /// The experiment's published numbers beside ours, with a verdict per row; nil without an
  /// `expect` section or a verdict.
  private func expectedNumbersTable() -> TextTable? {
    guard let expect = analysis.manifest.expect, !analysis.verdicts.isEmpty else { return nil }
    return TextTable(
      title:
        "Expected numbers: \(expect.table), \(expect.phase.rawValue) phase, tolerance "
        + Format.percent(expect.tolerance * 100),
      header: ["mode", "pct", "theirs", "ours", "95%", "diff", "verdict"],
      rows: analysis.verdicts.map { verdict in
        [
          verdict.label,
          verdict.percentile.label,
          Format.micros(verdict.published),
          verdict.ours.map { Format.micros($0.value) } ?? "-",
          verdict.ours.map(Format.range) ?? "-",
          verdict.difference.map(Format.change) ?? "-",
          verdict.ours == nil
            ? "no data" : verdict.reproduced ? "reproduced" : "not reproduced",
        ]
      },
      footnotes: [
        "reproduced: our median is within the tolerance of the published value."
      ])
  }

  /// The cells left out of every figure and why; nil when every cell counted.
  private func excludedTable() -> TextTable? {
    guard !analysis.excluded.isEmpty else { return nil }
    return TextTable(
      title: "Cells not averaged in",
      header: ["cell", "status", "reason"],
      rows: analysis.excluded.map {
        [
          $0.id, $0.status,
          $0.reasons.isEmpty ? "-" : Self.distinct($0.reasons).joined(separator: "; "),
        ]
      }, isList: true)
  }

  /// "median of 3 repetitions" when every group with data has that many, else "median across
  /// repetitions"; never a count of zero.
  func repetitionText(_ groups: [GroupStats]) -> String {
    let counts = Set(groups.compactMap { $0.wakeup.first??.repetitions })
    guard counts.count == 1, let count = counts.first else { return "median across repetitions" }
    return count == 1 ? "1 repetition" : "median of \(count) repetitions"
  }

  /// Notes saying why a column shows `-`: one per reason, naming every mode it applies to.
  func noDataNotes(_ groups: [GroupStats]) -> [String] {
    var reasons: [String] = []
    var labels: [String: [String]] = [:]
    for group in groups {
      guard let reason = group.noDataReason else { continue }
      if labels[reason] == nil { reasons.append(reason) }
      labels[reason, default: []].append(group.label)
    }
    return reasons.map { "-: no data for \(labels[$0]!.joined(separator: ", ")): \($0)." }
  }

  /// One sentence per interval method and size in `groups`: what the `lo-hi` is and how
  /// often it holds the true value.
  func intervalNotes(_ groups: [GroupStats]) -> [String] {
    var order: [String] = []
    var labels: [String: [String]] = [:]
    for group in groups {
      guard let estimate = group.wakeup.compactMap({ $0 }).first else { continue }
      let text = Self.describeInterval(estimate, phase: analysis.phase.rawValue)
      if labels[text] == nil { order.append(text) }
      labels[text, default: []].append(group.label)
    }
    return order.map { "\(labels[$0]!.joined(separator: ", ")): \($0)" }
  }

  /// What an estimate's interval is, as a clause with its coverage.
  static func describeInterval(_ estimate: Estimate, phase: String) -> String {
    let n = estimate.repetitions
    let coverage = Format.coverage(estimate.coverage)
    switch estimate.method {
    case .repetitions where n < 6:
      return "range (min-max) of \(n) repetitions; it holds the median \(coverage) of the time."
    case .repetitions:
      return "order-statistic interval of \(n) repetitions; it holds the median at least "
        + "\(coverage) of the time."
    case .intervals:
      return "nominal \(coverage) moving-block bootstrap over the \(phase) intervals of one "
        + "run; run-to-run variation is not in it, and it covers less when the intervals are "
        + "strongly correlated (docs/benchmarks.md)."
    case .single:
      return "one repetition, no interval."
    }
  }

  /// Notes on starved figures: percentiles marked `?` and cells short of intervals.
  func starvationNotes(_ groups: [GroupStats]) -> [String] {
    var notes: [String] = []
    let thin = groups.filter { group in group.wakeup.contains { $0?.tooFewSamples == true } }
    if !thin.isEmpty {
      let needs = analysis.percentiles.indices.filter { index in
        thin.contains { $0.wakeup[index]?.tooFewSamples == true }
      }.map { index in
        let p = analysis.percentiles[index]
        return
          "the \(PercentileKey(p).label) needs \(RunAnalysis.requiredSamples(forPercentile: p))"
      }
      let fewest = thin.map { group in
        "\(group.label) \(group.cells.map(\.wakeupSamples).filter { $0 > 0 }.min() ?? 0)"
      }
      notes.append(
        "?: a cell holds fewer samples than the percentile needs ("
          + needs.joined(separator: ", ") + "); fewest per cell: "
          + fewest.joined(separator: ", ") + ". Not a measurement of that percentile.")
    }
    for group in groups {
      let gapped = group.cells.filter(\.hasGaps)
      if !gapped.isEmpty {
        notes.append(
          "\(group.label): "
            + gapped.map { cell in
              "\(cell.id) has \(cell.recordedIntervals) intervals and \(cell.recordedGaps ?? 0) "
                + (cell.recordedGaps == 1 ? "gap" : "gaps")
                + (cell.expectedIntervals.map { " (its runtime gives \($0))" } ?? "")
            }.joined(separator: ", ")
            + ": its snapshot thread woke late, starved with the guest.")
      }
      let short = group.cells.filter(\.isShort)
      guard !short.isEmpty else { continue }
      notes.append(
        "\(group.label): "
          + short.map { cell in
            "\(cell.id) has \(cell.recordedIntervals)"
              + (cell.recordedGaps.map { " intervals and \($0) gaps" } ?? "")
              + " of \(cell.expectedIntervals ?? 0)"
          }.joined(separator: ", ")
          + (short.contains { $0.recordedGaps == nil }
            ? " intervals its runtime gives (the interval thread was starved, or intervals "
              + "were lost)."
            : " intervals its runtime gives: intervals were lost."))
    }
    return notes
  }

  /// `-R` mode: requests done against expected per phase, or nil for the closed loop.
  func requestTable(_ groups: [GroupStats], point: [String: String]) -> TextTable? {
    guard groups.contains(where: { !$0.requests.isEmpty }) else { return nil }
    let rate =
      RunAnalysis.requestRate(point: point, workload: analysis.manifest.workload).map(
        Format.rate) ?? "?"
    let phases = PhaseSelection.summaryKeys.filter { name in
      groups.contains { group in group.requests.contains { $0.phase == name } }
    }
    return TextTable(
      title: "Requests done of expected at -R \(rate)\(pointSuffix(point))",
      header: ["phase"] + groups.map(\.label),
      rows: phases.map { name in
        [name]
          + groups.map { group in
            guard let figure = group.requests.first(where: { $0.phase == name }) else {
              return Format.noData
            }
            return "\(Format.rate(figure.done))/\(Format.rate(figure.expected))"
              + (figure.fraction.map { " " + Format.wholePercent($0 * 100) } ?? "")
          }
      },
      footnotes: [
        "done/expected: requests completed, against the -R rate times the phase's seconds "
          + "(gaps included), summed over the cells. Requests a starved worker never got "
          + "to are in no latency sample."
      ])
  }

  /// A sweep point's row label: the values only, in sweep-key order.
  func sweepLabel(_ point: [String: String]) -> String {
    let keys = analysis.manifest.sweepKeys.filter { point[$0] != nil }
    let ordered = keys + point.keys.sorted().filter { !keys.contains($0) }
    return ordered.map { point[$0]! }.joined(separator: "/")
  }

  /// `reasons` without repeats, in first-seen order: a gate that failed in three phases
  /// is one reason, said once.
  static func distinct(_ reasons: [String]) -> [String] {
    var seen = Set<String>()
    return reasons.filter { seen.insert($0).inserted }
  }

  static func describe(_ source: StealSource) -> String {
    switch source {
    case .guest: "guest /proc/stat"
    case .host: "host run-queue wait of the vCPU threads"
    case .none: "none"
    }
  }

  static func shellQuote(_ word: String) -> String {
    let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0) }
    return safe && !word.isEmpty
      ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// The plain-text report: header, tables and notes, every line within 72 columns.
  public func text() -> String {
    var out = headerLines().flatMap { wrap($0, width: 72) }.joined(separator: "\n") + "\n"
    for table in tables() { out += "\n" + table.text(width: 72) }
    if !analysis.notes.isEmpty {
      out += "\n" + analysis.notes.flatMap { wrap($0, width: 72) }.joined(separator: "\n") + "\n"
    }
    return out
  }

  /// The report as Markdown: header as a list, tables with `value [lo, hi]` cells.
  public func markdown() -> String {
    var out = "### pvbench: \(analysis.manifest.experimentName)\n\n"
    out += headerLines().dropFirst().map { "- \($0)" }.joined(separator: "\n") + "\n"
    let kernels = seriesTables() ?? kernelTables()
    for table in kernels { out += "\n" + table.markdown() }
    for point in analysis.points {
      let groups = groups(at: point)
      guard !groups.isEmpty else { continue }
      let table = TextTable(
        title: "Wakeup latency (µs), \(analysis.phase.rawValue) phase\(pointSuffix(point))",
        header: ["percentile"] + groups.map(\.label),
        rows: analysis.percentiles.indices.map { index in
          [PercentileKey(analysis.percentiles[index]).label]
            + groups.map {
              $0.wakeup[index].map { Format.withInterval($0, Format.micros) } ?? Format.noData
            }
        }, footnotes: noDataNotes(groups))
      out += "\n" + table.markdown()
    }
    for table in tables().filter({
      !$0.title.hasPrefix("Wakeup") && !$0.title.hasPrefix("95%") && !kernels.contains($0)
    }) {
      out += "\n" + table.markdown()
    }
    if !analysis.notes.isEmpty { out += "\n" + analysis.notes.joined(separator: "\n") + "\n" }
    return out
  }

  /// Long-form CSV: one row per figure, every estimate with its interval.
  public func csv() -> String {
    let keys = analysis.manifest.sweepKeys
    var lines = [
      (["phase", "mode", "label"] + keys + [
        "metric", "percentile", "value", "low", "high", "repetitions", "method",
      ]).joined(separator: ",")
    ]
    func field(_ text: String) -> String {
      text.contains(where: { ",\"\n".contains($0) })
        ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
    for group in analysis.groups {
      let prefix =
        [analysis.phase.rawValue, group.key.modeID, group.label]
        + keys.map {
          group.key.point[$0] ?? ""
        }
      func row(_ metric: String, _ percentile: String, _ estimate: Estimate?) {
        // No data is an empty field, never a 0.
        let values =
          estimate.map {
            [
              metric, percentile, number($0.value), number($0.low), number($0.high),
              "\($0.repetitions)", $0.method.rawValue,
            ]
          } ?? [metric, percentile, "", "", "", "0", ""]
        lines.append((prefix + values).map(field).joined(separator: ","))
      }
      for (index, p) in analysis.percentiles.enumerated() {
        row("wakeup_us", PercentileKey(p).key, group.wakeup[index])
      }
      for (index, p) in analysis.percentiles.enumerated() {
        row("request_us", PercentileKey(p).key, group.request[index])
      }
      if let rps = group.rps { row("rps", "", rps) }
      for steal in group.steal {
        if let percent = steal.percent {
          row(
            "steal_percent_\(steal.phase)", "",
            Estimate(value: percent, low: percent, high: percent, repetitions: 0, method: .single))
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The whole analysis as pretty-printed JSON with sorted keys.
  public func json() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(analysis), as: UTF8.self) + "\n"
  }

  /// A number for data files: up to 6 significant decimals, no exponent for normal ranges.
  func number(_ value: Double) -> String { dataNumber(value) }
}

/// A number for CSV and gnuplot data files.
func dataNumber(_ value: Double) -> String {
  if value == value.rounded() && abs(value) < 1e15 { return String(Int64(value)) }
  return String(format: "%.6g", value)
}
