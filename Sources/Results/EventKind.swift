/// What an `events.jsonl` line records (docs/results-format.md).
public enum EventKind: String, Codable, Sendable, CaseIterable {
  /// A busy/idle edge of the noise host; `detail` is `busy`, `idle` or `end`,
  /// `milliseconds` how late the edge was.
  case phaseEdge = "phase-edge"
  /// One busy or idle phase of the noise host ended; `detail` says how busy it was.
  case noisePhase = "noise-phase"
  /// The clock offset of a host against the controller, measured before the cell.
  case clockOffset = "clock-offset"
  /// The mode was applied on the measure host; `milliseconds` is how long that took.
  case modeApply = "mode-apply"
  /// The mode was restored on the measure host; `milliseconds` is how long that took.
  case modeRestore = "mode-restore"
  /// The avoided CPUs fell below 5 % busy; `milliseconds` since the mode was applied.
  case evacuated
  /// A governor decision that moved CPUs; `detail` says which.
  case governor
  /// A run of the governor's loop that moved nothing (a hold, a skip, a fold or unfold
  /// with nothing left to move), and the governor's start with its input and parameters.
  case governorStep = "governor-step"
  /// The kernel's preferred CPUs (`/sys/devices/system/cpu/preferred`) as a host's agent
  /// read them: the first reading of the cell and every change; `cpus` is the set.
  case preferred
  /// A warning line from a host's kernel log; it invalidates the cell.
  case kernelWarning = "kernel-warning"
  /// A host failed; `detail` says how.
  case hostFailed = "host-failed"
}
