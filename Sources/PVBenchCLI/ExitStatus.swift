/// pvbench's documented exit codes (README, "Exit codes"). CI scripts depend on them.
///
/// A command ends with one by throwing a `CommandFailure`, or a library error that
/// `CommandFailure.mapping(_:command:)` gives its code.
enum ExitStatus: Int32, CaseIterable, Sendable {
  case success = 0
  /// A host, a transport or the run failed at run time.
  case runtimeFailure = 1
  /// The experiment file or the command line is invalid; nothing ran.
  case invalidInput = 2
  /// `doctor` or a run's preflight found a host that cannot run the experiment.
  case hostUnfit = 4
  /// `compare` found a regression beyond `--threshold`.
  case regression = 5
  /// `compare` found no regression, but some change could not be judged: the runs are too
  /// short (too few repetitions, or too few samples for a percentile).
  case inconclusive = 6
  /// Interrupted by SIGINT/SIGTERM; every host was restored.
  case interrupted = 130
}
