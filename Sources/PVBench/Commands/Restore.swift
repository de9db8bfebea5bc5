import ArgumentParser

extension PVBench {
  struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "restore",
      abstract: "Replay a restore journal left on this host by a crashed agent.",
      discussion: """
        Puts CPUs back online, removes masks and cpusets pvbench made. Safe to run \
        twice.
        """
    )

    func run() async throws {
      try notBuiltYet("restore", issue: 4)
    }
  }
}
