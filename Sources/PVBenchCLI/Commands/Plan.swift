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

    @Option(
      help: """
        Check this testbeds file against the experiment too (file:line:column, exit 2); \
        default: the file's own testbeds section, if any.
        """)
    var testbeds: String?

    func run() async throws {
      let loaded = try loadExperiment(file)
      let plan = ExperimentPlan(loaded)
      let set =
        try testbeds.map { try TestbedsLoader.load(path: $0, experiment: plan.experiment) }
        ?? loaded.testbeds
      print(json ? try PlanPrinter.json(plan) : PlanPrinter.text(plan), terminator: "")
      if let set, !json {
        let groups = plan.groups.count
        print(
          "\nTestbeds (\(set.path)): \(set.names.joined(separator: ", ")); the plan has "
            + "\(groups) (point, repetition) group\(groups == 1 ? "" : "s") to shard.")
        for bed in set.testbeds {
          let hosts = bed.addresses.map { "\($0.host) at \($0.address)" }
          print(
            "  \(bed.name): \(hosts.isEmpty ? "hosts as in the file" : hosts.joined(separator: ", "))"
          )
        }
      }
    }
  }
}

/// Loads an experiment file; its warnings (a schedule with few clean intervals) go to
/// standard error, and the file still runs.
///
/// - Throws: `SpecError` with every problem in the file (exit code 2).
func loadExperiment(_ path: String) throws -> LoadedExperiment {
  let loaded = try ExperimentLoader.load(path: path) { HostPaths(root: $0).presentCPUs() }
  for warning in loaded.warnings { printToStandardError(warning.description) }
  return loaded
}

/// The testbeds of `path`, else of the experiment file's own section.
///
/// - Throws: `SpecError` for a bad testbeds file; `CommandFailure` (invalid input) when
///   there are no testbeds.
func testbedSet(_ path: String?, plan: ExperimentPlan) throws -> TestbedSet {
  if let path { return try TestbedsLoader.load(path: path, experiment: plan.experiment) }
  guard let set = plan.loaded.testbeds else {
    throw CommandFailure(
      .invalidInput,
      "pvbench: \(plan.loaded.path) has no 'testbeds' section; give a testbeds file with "
        + "--testbeds FILE (docs/shards.md)")
  }
  return set
}

/// One testbed of a testbeds file (or of the experiment's section).
///
/// - Throws: as `testbedSet(_:plan:)`, and `CommandFailure` (invalid input) when the set
///   has no testbed of that name.
func loadTestbed(_ path: String?, named name: String, plan: ExperimentPlan) throws -> Testbed {
  let set = try testbedSet(path, plan: plan)
  guard let testbed = set.testbed(named: name) else {
    throw CommandFailure(
      .invalidInput,
      "pvbench: \(set.path) has no testbed '\(name)'; its testbeds are "
        + set.names.map { "'\($0)'" }.joined(separator: ", "))
  }
  return testbed
}
