import ArgumentParser

/// pvbench's documented exit codes (README, "Exit codes"). CI scripts depend on them.
enum ExitStatus: Int32, CaseIterable, Sendable {
  case success = 0
  /// A host, a transport or the run failed at run time.
  case runtimeFailure = 1
  /// The experiment file or the command line is invalid; nothing ran.
  case invalidInput = 2
  /// The command exists but is not built yet.
  case notBuiltYet = 3
  /// `doctor` or a run's preflight found a host that cannot run the experiment.
  case hostUnfit = 4
  /// `compare` found a regression beyond `--threshold`.
  case regression = 5
  /// Interrupted by SIGINT/SIGTERM; every host was restored.
  case interrupted = 130

  var exitCode: ExitCode { ExitCode(rawValue) }
}

/// Prints the one-line notice of a command that is not built yet and exits with code 3.
func notBuiltYet(_ command: String, issue: Int) throws -> Never {
  printError("pvbench \(command): not built yet (tracked in issue #\(issue)).")
  throw ExitStatus.notBuiltYet.exitCode
}
