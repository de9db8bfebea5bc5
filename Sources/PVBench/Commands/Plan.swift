import ArgumentParser

extension PVBench {
  struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Expand an experiment file into cells and show what a run would do.",
      discussion: """
        Prints one row per cell (mode x sweep point x repetition) with its stable id and \
        estimated duration, the total time, and which knob changes on which host.
        """
    )

    func run() async throws {
      try notBuiltYet("plan", issue: 2)
    }
  }
}
