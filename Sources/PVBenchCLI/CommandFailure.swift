import ArgumentParser
import Controller
import Experiments
import Results

/// Why a command failed: the message pvbench prints on standard error and the documented
/// exit status it ends with.
///
/// Commands throw it where only they know the words (the command that resumes a run, the
/// folder a submission left behind); errors of the libraries are thrown through unchanged
/// and `CommandFailure.mapping(_:command:)` gives them their message and status.
struct CommandFailure: Error, CustomStringConvertible, Sendable, Equatable {
  /// The exit status pvbench ends with.
  var status: ExitStatus
  /// What went wrong and what to do, one or more lines; empty when the command already said
  /// why on standard output (doctor's verdict, compare's table).
  var description: String

  init(_ status: ExitStatus, _ description: String = "") {
    self.status = status
    self.description = description
  }
}

extension CommandFailure {
  /// The one place an error becomes what pvbench prints and the code it exits with.
  ///
  /// Library errors get their documented code (README, "Exit codes"): a bad experiment or
  /// testbeds file, an unreadable run folder, shards that cannot be merged or a resume that
  /// does not fit are invalid input (2); a host that fails the preflight is unfit (4); an
  /// interruption is 130; anything else that fails at run time is 1. The message is the
  /// error's own description after `command` ("pvbench report: …"), except for experiment
  /// file diagnostics, which name their file and line.
  ///
  /// - Parameters:
  ///   - error: What the command (or the parser) threw.
  ///   - command: The words that name the command, as "pvbench workload stress".
  /// - Returns: nil for ArgumentParser's own endings (help, version, a bare `ExitCode`),
  ///   which ArgumentParser prints itself; a command line it cannot parse is invalid input.
  static func mapping(_ error: any Error, command: String) -> CommandFailure? {
    switch error {
    case let failure as CommandFailure:
      return failure
    case let error as SpecError:
      return CommandFailure(.invalidInput, error.description)
    case let error as ResultsError:
      return CommandFailure(.invalidInput, "\(command): \(error)")
    case let error as MergeError:
      return CommandFailure(
        error.kind == .input ? .invalidInput : .runtimeFailure, "\(command): \(error)")
    case let error as RunSetupError:
      return CommandFailure(.invalidInput, "\(command): \(error)")
    case let error as PreflightError:
      return CommandFailure(
        .hostUnfit,
        "\(command): a host cannot run this experiment; nothing was changed.\n\(error.report)")
    case let error as InterruptedError:
      return CommandFailure(.interrupted, "\(command): \(error)")
    case is CleanExit, is ExitCode:
      return nil
    default:
      switch PVBench.exitCode(for: error) {
      case .success:
        return nil
      case .validationFailure:
        return CommandFailure(.invalidInput, PVBench.fullMessage(for: error))
      default:
        return CommandFailure(.runtimeFailure, "\(command): \(error)")
      }
    }
  }
}
