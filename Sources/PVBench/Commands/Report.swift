import ArgumentParser

extension PVBench {
  struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "report",
      abstract: "Write percentile tables and gnuplot plots for a run.",
      discussion: """
        The cover-letter table (50.0th..99.9th per mode, in microseconds), statistics \
        across repetitions, expect verdicts, plots and one self-contained HTML file.
        """
    )

    func run() async throws {
      try notBuiltYet("report", issue: 6)
    }
  }
}
