import ArgumentParser

extension PVBench {
  struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "doctor",
      abstract: "Check that every host of an experiment can run it.",
      discussion: """
        Per host: reachable, kernel, CPUs, cores x threads, entitlement, steal \
        accounting, and each mode the file asks for.
        """
    )

    func run() async throws {
      try notBuiltYet("doctor", issue: 4)
    }
  }
}
