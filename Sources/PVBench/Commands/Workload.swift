import ArgumentParser

extension PVBench {
  struct Workload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "workload",
      abstract: "Run a workload by hand: the schbench-equivalent or the busy/idle stress cycler.",
      subcommands: [Schbench.self, Stress.self]
    )
  }
}

extension PVBench.Workload {
  struct Schbench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "schbench",
      abstract: "Measure wakeup and request latency like schbench (same flags and output layout)."
    )

    func run() async throws {
      try notBuiltYet("workload schbench", issue: 3)
    }
  }

  struct Stress: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stress",
      abstract: "Cycle CPU burners through busy and idle phases and record the actual edges."
    )

    func run() async throws {
      try notBuiltYet("workload stress", issue: 3)
    }
  }
}
