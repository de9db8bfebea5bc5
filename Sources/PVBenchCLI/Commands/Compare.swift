import ArgumentParser
import Foundation
import LinuxHost
import Report
import Results
import Vocabulary

extension PVBench {
  struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "compare",
      abstract: "Compare runs mmtests-style against a baseline run.",
      discussion: """
        Each cell shows the value and the signed change; significance from a permutation \
        test of the repetitions' medians. Exits 5 when a regression exceeds --threshold, \
        else 6 when some change is inconclusive (runs too short to tell).
        """
    )

    @Argument(help: "Run folders; the first is the baseline unless --baseline names one.")
    var runs: [String]

    @Option(help: "The run folder to compare against (default: the first run).")
    var baseline: String?

    @Option(help: "Worsening that counts as a regression, e.g. '10%'.")
    var threshold = "10%"

    @Option(
      help: """
        Which intervals to compare: busy, idle or all (default: the baseline experiment's \
        report.phase, else busy).
        """)
    var phase: PhaseSelection?

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap resamples.")
    var resamples = 1000

    /// `--threshold` as a fraction.
    var thresholdFraction: Double? {
      let text = threshold.hasSuffix("%") ? String(threshold.dropLast()) : threshold
      guard let value = Double(text), value >= 0, value.isFinite else { return nil }
      return value / 100
    }

    func validate() throws {
      guard thresholdFraction != nil else {
        throw ValidationError("'--threshold' must be a percentage like '10%', got '\(threshold)'.")
      }
      let all = (baseline.map { [$0] } ?? []) + runs
      guard Set(all).count >= 2 else {
        throw ValidationError("'compare' needs at least two different run folders.")
      }
    }

    func run() async throws {
      var folders = runs
      if let baseline {
        folders.removeAll { $0 == baseline }
        folders.insert(baseline, at: 0)
      }
      var analyses: [RunAnalysis] = []
      var chosenPhase = phase
      for (index, path) in folders.enumerated() {
        let store = try RunStore.load(from: URL(fileURLWithPath: path), intervals: false)
        // Every run is compared over the same phase: the baseline's default when not given.
        let phase = chosenPhase ?? store.manifest.defaultReportPhase
        chosenPhase = phase
        analyses.append(
          RunAnalysis.analyze(
            store,
            options: AnalysisOptions(
              phase: phase, seed: SeededGenerator.derive(seed, "run\(index)"),
              resamples: resamples)))
      }
      let comparison = RunComparison.compare(analyses, threshold: thresholdFraction ?? 0.1)
      print(comparison.text(), terminator: "")
      // The table above names the regressions and the inconclusive rows.
      if !comparison.regressions.isEmpty { throw CommandFailure(.regression) }
      if !comparison.inconclusive.isEmpty { throw CommandFailure(.inconclusive) }
    }
  }
}
