import Foundation
import Results
import Vocabulary

extension ReportRenderer {
  /// The percentile the one-sentence verdicts speak of: the 99th when the report has it
  /// (the tail a reviewer asks about first), else the highest.
  var verdictPercentileIndex: Int? {
    analysis.percentiles.firstIndex(of: 99) ?? analysis.percentiles.indices.last
  }

  /// One sentence per sweep point: which mode had the lowest wakeup latency at the verdict
  /// percentile, by how much against out-of-box (or, when out-of-box won, against the best
  /// other mode), and whether the two intervals separate.
  public func verdictSentences() -> [(point: String, sentence: String)] {
    guard let index = verdictPercentileIndex else { return [] }
    let name = PercentileKey(analysis.percentiles[index]).name
    let phase = analysis.phase.rawValue
    return analysis.points.compactMap { point in
      let groups = groups(at: point)
      guard !groups.isEmpty else { return nil }
      let label = point.isEmpty ? "-" : sweepLabel(point)
      let measured = groups.compactMap { group in group.wakeup[index].map { (group, $0) } }
      guard let winner = measured.min(by: { $0.1.value < $1.1.value }) else {
        return (label, "no mode has a wakeup sample in the \(phase) phase.")
      }
      let baselineID = IntensitySweep.baseline(analysis)?.id
      let others = measured.filter { $0.0.key.modeID != winner.0.key.modeID }
      let rival =
        others.first { $0.0.key.modeID == baselineID && winner.0.key.modeID != baselineID }
        ?? others.min { $0.1.value < $1.1.value }
      guard let rival else {
        return (
          label,
          "only \(winner.0.label) has data: \(name) \(Format.micros(winner.1.value)) us."
        )
      }
      // A percentile held by too few samples is not a measurement: no winner is named
      // on it. A mode starved of CPU wakes rarely, so its few samples look fast; its rps
      // says what happened (coordinated omission).
      let thin = [rival, winner].filter { $0.1.tooFewSamples }
      if !thin.isEmpty {
        let needed = RunAnalysis.requiredSamples(forPercentile: analysis.percentiles[index])
        let who = thin.map { "\($0.0.label) (\($0.0.wakeupSamples) samples)" }
        let rps = [winner, rival].map { pair in
          "\(pair.0.label) \(pair.0.rps.map { Format.rate($0.value) } ?? "-")"
        }
        return (
          label,
          "no verdict at the \(name): too few wakeup samples in "
            + who.joined(separator: " and ")
            + "; a cell needs \(needed). rps: \(rps.joined(separator: ", "))."
        )
      }
      let below = rival.1.value > 0 ? (rival.1.value - winner.1.value) / rival.1.value : 0
      var sentence =
        Format.micros(winner.1.value) == Format.micros(rival.1.value)
        ? "\(winner.0.label) and \(rival.0.label) tie at the \(name), "
          + "\(Format.micros(winner.1.value)) us; "
        : "\(winner.0.label) won the \(name) at \(Format.micros(winner.1.value)) us, "
          + "\(Self.below(below)) below \(rival.0.label) "
          + "(\(Format.micros(rival.1.value)) us); "
      if winner.1.method == .single || rival.1.method == .single {
        sentence += "one repetition each, no interval to tell them apart"
      } else if winner.1.high < rival.1.low {
        sentence +=
          "their intervals separate (\(Format.range(winner.1)) against "
          + "\(Format.range(rival.1)), \(Self.coverageWords(winner.1, rival.1)))"
      } else {
        sentence +=
          "their intervals overlap (\(Format.range(winner.1)) against "
          + "\(Format.range(rival.1))): the run cannot tell them apart"
      }
      return (label, sentence + ".")
    }
  }

  /// A fraction below the rival as a whole percentage that never rounds a difference
  /// away: `>99%` rather than `100%`, `<1%` rather than `0%`.
  static func below(_ fraction: Double) -> String {
    if fraction > 0.99 && fraction < 1 { return ">99%" }
    if fraction > 0 && fraction < 0.01 { return "<1%" }
    return Format.wholePercent(fraction * 100)
  }

  /// How often each of two intervals holds its median, in words.
  static func coverageWords(_ a: Estimate, _ b: Estimate) -> String {
    let words = Set(
      [a, b].map { estimate -> String in
        estimate.method == .intervals
          ? "nominal \(Format.coverage(estimate.coverage))"
          : Format.coverage(estimate.coverage)
      })
    return words.sorted().joined(separator: " and ") + " coverage"
  }

  /// The verdicts as a list table, or nil with fewer than two modes.
  func verdictTable() -> TextTable? {
    guard analysis.modesWithData.count >= 2, let index = verdictPercentileIndex else {
      return nil
    }
    let sentences = verdictSentences()
    guard !sentences.isEmpty else { return nil }
    let name = PercentileKey(analysis.percentiles[index]).name
    let keys = analysis.manifest.sweepKeys.joined(separator: " / ")
    return TextTable(
      title: "Which mode won, \(name) wakeup latency, \(analysis.phase.rawValue) phase",
      header: ["point", "verdict"], rows: sentences.map { [$0.point, $0.sentence] },
      footnotes: (keys.isEmpty ? [] : ["point: \(keys)."]) + crossoverNotes(index),
      isList: true)
  }

  /// One sentence per crossover of a folding mode with out-of-box at percentile `index`
  /// along the intensity axis; none without one.
  func crossoverNotes(_ index: Int) -> [String] {
    guard let sweep = IntensitySweep(analysis) else { return [] }
    let name = PercentileKey(analysis.percentiles[index]).name
    var notes: [String] = []
    for slice in sweep.slices {
      let at =
        slice.others.isEmpty ? "" : " at " + GroupKey(modeID: "", point: slice.others).pointText
      for crossing in IntensitySweep.crossovers(analysis, slice, percentileIndex: index) {
        notes.append(
          "Crossover (\(name)\(at)): \(crossing.label) "
            + (crossing.stopsHelping ? "stops beating" : "starts beating")
            + " \(IntensitySweep.baseline(analysis)?.label ?? "out-of-box") between "
            + "\(sweep.key.rawValue.split(separator: ".").last!) \(dataNumber(crossing.lower)) "
            + "and \(dataNumber(crossing.upper)) (about \(Format.rate(crossing.intensity)), where "
            + "the figure's straight segments cross).")
      }
    }
    return notes
  }
}
