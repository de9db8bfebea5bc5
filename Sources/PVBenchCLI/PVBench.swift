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

  /// Parses and runs the command, and ends pvbench as `CommandFailure.mapping` says for
  /// whatever it throws: the message on standard error and the documented exit code (a bad
  /// command line exits with 2, invalid input, as the README documents, instead of
  /// ArgumentParser's 64).
  public static func runFromCommandLine() async {
    var name = "pvbench"
    do {
      var command = try parseAsRoot()
      name = commandPath(of: type(of: command))
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      guard let failure = CommandFailure.mapping(error, command: name) else {
        exit(withError: error)
      }
      if !failure.description.isEmpty { printToStandardError(failure.description) }
      Glibc.exit(failure.status.rawValue)
    }
  }

  /// The words that name `command` on the command line, "pvbench workload stress" for
  /// `PVBench.Workload.Stress`: the prefix of its messages.
  static func commandPath(of command: any ParsableCommand.Type) -> String {
    func path(from node: any ParsableCommand.Type) -> [String]? {
      if ObjectIdentifier(node) == ObjectIdentifier(command) { return [node._commandName] }
      for subcommand in node.configuration.subcommands {
        if let rest = path(from: subcommand) { return [node._commandName] + rest }
      }
      return nil
    }
    return (path(from: self) ?? [_commandName]).joined(separator: " ")
  }
}
