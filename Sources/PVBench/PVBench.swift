import ArgumentParser

@main
struct PVBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pvbench",
    abstract: "Benchmark and experiment orchestration for Linux scheduling under CPU overcommit.",
    discussion: """
      An experiment file names hosts, which one measures wakeup latency and which \
      one makes busy/idle noise, and which CPU modes to compare. Start with \
      'pvbench plan experiments/quickstart.yaml'.

      Exit codes: 0 success, 1 runtime failure, 2 invalid input, 3 not built yet, \
      4 a host cannot run the experiment, 5 regression beyond --threshold, \
      130 interrupted (hosts restored).
      """,
    version: PVBenchVersion.current,
    subcommands: [
      Plan.self, Run.self, Report.self, Compare.self, Workload.self, Agent.self, VM.self,
      Restore.self, Doctor.self,
    ]
  )
}
