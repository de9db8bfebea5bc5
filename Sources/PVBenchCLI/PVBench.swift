import AgentProtocol
import ArgumentParser
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// The `pvbench` command line: one subcommand per file in `Commands/`.
public struct PVBench: AsyncParsableCommand {
  public init() {}

  public static let configuration = CommandConfiguration(
    commandName: "pvbench",
    abstract: "Benchmark and experiment orchestration for Linux scheduling under CPU overcommit.",
    discussion: """
      An experiment file names hosts, which one measures wakeup latency and which \
      one makes busy/idle noise, and which CPU modes to compare. Start with \
      'pvbench plan experiments/quickstart.yaml'.

      Exit codes: 0 success, 1 runtime failure, 2 invalid input, \
      4 a host cannot run the experiment, 5 regression beyond --threshold, \
      130 interrupted (hosts restored).
      """,
    version: PVBenchVersion.current,
    subcommands: [
      Plan.self, Run.self, Merge.self, Submit.self, Status.self, Watch.self, Report.self,
      Compare.self, Workload.self, Agent.self,
      VM.self, Restore.self, Doctor.self,
    ]
  )

  /// Parses and runs the command; a bad command line exits with code 2 (invalid input),
  /// as the README documents, instead of ArgumentParser's 64.
  public static func runFromCommandLine() async {
    do {
      var command = try parseAsRoot()
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      let code = exitCode(for: error)
      if code == .validationFailure {
        printError(fullMessage(for: error))
        Glibc.exit(ExitStatus.invalidInput.rawValue)
      }
      exit(withError: error)
    }
  }
}
