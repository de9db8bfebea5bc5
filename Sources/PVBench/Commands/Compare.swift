import ArgumentParser

extension PVBench {
  struct Compare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "compare",
      abstract: "Compare runs mmtests-style against a baseline run.",
      discussion: """
        Each cell shows the value and the signed change; significance from bootstrap \
        intervals. Exits 5 when a regression exceeds --threshold.
        """
    )

    func run() async throws {
      try notBuiltYet("compare", issue: 6)
    }
  }
}
