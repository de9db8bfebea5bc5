import AgentProtocol
import ArgumentParser
import Experiments
import LinuxHost

extension PVBench {
  struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract: "Expand an experiment file into cells and show what a run would do.",
      discussion: """
        Checks the whole file first: every problem is printed as \
        'file:line:column: error: key.path: message' and the command exits with code 2; \
        a busy or idle phase in which no interval can be tagged (not longer than 'settle' \
        plus the measure interval) is such an error. Warnings (fewer than three clean \
        intervals per phase and cycle) are printed the same way and do not stop the plan. \
        Then prints one row per cell (mode x sweep point x repetition) with its stable id \
        and estimated duration, the total time, and which knob changes on which host.
        """
    )

    @Argument(help: "The experiment file (YAML).")
    var file: String

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() async throws {
      let loaded = try loadExperimentOrExit(file)
      let plan = ExperimentPlan(loaded)
      print(json ? try PlanPrinter.json(plan) : PlanPrinter.text(plan), terminator: "")
    }
  }
}

/// Loads an experiment file, or prints every problem in it and exits with code 2.
///
/// Warnings (a schedule with few clean intervals) go to standard error; the file still runs.
func loadExperimentOrExit(_ path: String) throws -> LoadedExperiment {
  do {
    let loaded = try ExperimentLoader.load(path: path) { HostPaths(root: $0).presentCPUs() }
    for warning in loaded.warnings { printError(warning.description) }
    return loaded
  } catch {
    printError(error.description)
    throw ExitStatus.invalidInput.exitCode
  }
}
