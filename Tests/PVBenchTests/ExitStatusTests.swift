import Controller
import Experiments
import LinuxHost
import LocalVMs
import PVBenchTestSupport
import Results
import Testing

@testable import PVBenchCLI

/// Swift Testing has an `ExitStatus` of its own.
typealias ExitStatus = PVBenchCLI.ExitStatus

@Suite struct ExitStatusTests {
  @Test func documentedCodesAreDistinct() {
    let codes = ExitStatus.allCases.map(\.rawValue)
    #expect(Set(codes).count == codes.count)
    #expect(ExitStatus.invalidInput.rawValue == 2)
  }

  /// One error of each kind a command ends with, the status the README documents for it and
  /// the exact message pvbench prints.
  struct Example: Sendable, CustomTestStringConvertible {
    var error: any Error
    var status: ExitStatus
    var message: String
    var testDescription: String { "\(type(of: error)) -> \(status.rawValue)" }
  }

  static let examples: [Example] = [
    Example(
      error: specError(loading: "/nonexistent/x.yaml"), status: .invalidInput,
      message: "/nonexistent/x.yaml: error: no such file"),
    Example(
      error: ResultsError.notARun(path: "/r"), status: .invalidInput,
      message: "pvbench test: '/r' is not a run folder: it has no manifest.json. Pass a folder "
        + "results/<experiment>/<run-id> written by 'pvbench run'."),
    Example(
      error: MergeError(.input, "the runs overlap"), status: .invalidInput,
      message: "pvbench test: the runs overlap"),
    Example(
      error: MergeError(.io, "cannot write OUT"), status: .runtimeFailure,
      message: "pvbench test: cannot write OUT"),
    Example(
      error: RunSetupError("'/r' holds another run"), status: .invalidInput,
      message: "pvbench test: '/r' holds another run"),
    Example(
      error: PreflightError(report: "lpar1 (ssh)\n  mode paravirt    no: absent"),
      status: .hostUnfit,
      message: "pvbench test: a host cannot run this experiment; nothing was changed.\n"
        + "lpar1 (ssh)\n  mode paravirt    no: absent"),
    Example(
      error: InterruptedError(signal: "SIGINT"), status: .interrupted,
      message: "pvbench test: interrupted by SIGINT while connecting to the hosts"),
    Example(
      error: RunError("lpar2: the agent went away."), status: .runtimeFailure,
      message: "pvbench test: lpar2: the agent went away."),
    Example(
      error: StoreError("cannot create /r"), status: .runtimeFailure,
      message: "pvbench test: cannot create /r"),
    Example(
      error: VMError("no kernel"), status: .runtimeFailure, message: "pvbench test: no kernel"),
    Example(
      error: CommandFailure(.regression), status: .regression, message: ""),
    Example(
      error: CommandFailure(.inconclusive), status: .inconclusive, message: ""),
    Example(
      error: CommandFailure(.interrupted, "pvbench run: interrupted"), status: .interrupted,
      message: "pvbench run: interrupted"),
  ]

  /// What loading `path` throws.
  static func specError(loading path: String) -> any Error {
    do {
      _ = try ExperimentLoader.load(path: path) { HostPaths(root: $0).presentCPUs() }
      return CommandFailure(.success, "\(path) loaded")
    } catch {
      return error
    }
  }

  @Test(arguments: examples)
  func eachErrorKindMapsToItsDocumentedCode(_ example: Example) throws {
    let failure = try #require(CommandFailure.mapping(example.error, command: "pvbench test"))
    #expect(failure.status == example.status)
    #expect(failure.description == example.message)
  }

  @Test func everyFailureStatusIsReachable() {
    let reached = Set(
      Self.examples.compactMap { CommandFailure.mapping($0.error, command: "pvbench test") }
        .map(\.status))
    #expect(reached == Set(ExitStatus.allCases.filter { $0 != .success }))
  }

  @Test func aBadCommandLineIsInvalidInputAndHelpIsLeftToArgumentParser() throws {
    let bad = #expect(throws: (any Error).self) {
      try PVBench.parseAsRoot(["compare", "/a", "/b", "--threshold", "ten"])
    }
    let error = try #require(bad)
    let failure = try #require(CommandFailure.mapping(error, command: "pvbench"))
    #expect(failure.status == .invalidInput)
    #expect(
      failure.description.hasPrefix(
        "Error: '--threshold' must be a percentage like '10%', got 'ten'.\n"))
    // Version and help end with 0 and go to standard output: ArgumentParser prints them.
    let help = #expect(throws: (any Error).self) { try PVBench.parseAsRoot(["--version"]) }
    let helpRequest = try #require(help)
    #expect(CommandFailure.mapping(helpRequest, command: "pvbench") == nil)
  }

  @Test func commandsNameThemselvesByTheirPath() {
    #expect(PVBench.commandPath(of: PVBench.Workload.Stress.self) == "pvbench workload stress")
    #expect(PVBench.commandPath(of: PVBench.Report.self) == "pvbench report")
    #expect(PVBench.commandPath(of: PVBench.self) == "pvbench")
  }

  /// The binary prints exactly the mapped description and exits with its status.
  @Test func theBinaryPrintsTheMessageOfTheMappingAndExitsWithItsCode() throws {
    let result = try CLI.run(["report", "/nonexistent/run"], binary: CLI.pvbench)
    let failure = try #require(
      CommandFailure.mapping(
        ResultsError.notARun(path: "/nonexistent/run"), command: "pvbench report"))
    #expect(result.status == failure.status.rawValue)
    #expect(result.stderr == failure.description + "\n")
    #expect(result.stdout == "")
  }
}
