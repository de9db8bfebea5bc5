import ArgumentParser

extension PVBench {
  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "run",
      abstract: "Run an experiment: drive every host through the schedule, measure, restore.",
      discussion: """
        Writes results/<experiment>/<run-id>/. --resume RUN_DIR runs only missing or \
        invalid cells.
        """
    )

    func run() async throws {
      try notBuiltYet("run", issue: 5)
    }
  }
}
