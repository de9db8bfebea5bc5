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
