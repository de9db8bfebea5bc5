import AgentProtocol
import Controller
import Foundation
import LinuxHost
import PVBenchTestSupport
import Testing

/// One agent binary the conformance suite runs: the Swift agent (`pvbench-testing agent`)
/// or the portable agent (agent/, `pvbench-agent-testing`) built for an architecture by
/// scripts/build-agents, run through `qemu-<arch>-static` when it is not this machine's.
///
/// Both are their testing builds: the fake kernel under a root other than `/` and the
/// crash injector (`PVBENCH_CRASH_AT_STEP`).
struct AgentUnderTest: Sendable, Hashable, CustomTestStringConvertible {
  /// A short name for test output: `swift`, `c-x86_64`, `c-ppc64le`, …
  let name: String
  /// The agent binary itself.
  let binary: String
  /// The emulator that runs it (`qemu-ppc64le-static`), or nil when it runs natively.
  let emulator: String?

  var testDescription: String { name }

  /// This machine's architecture, named as `uname -m` names it.
  static let hostArchitecture = ELFArchitecture.of("/proc/self/exe") ?? "x86_64"

  /// The Swift agent.
  static let swift = AgentUnderTest(name: "swift", binary: BuiltBinary.path, emulator: nil)

  /// The portable agent built for `architecture` (a name scripts/build-agents takes).
  static func portable(_ architecture: String) -> AgentUnderTest {
    AgentUnderTest(
      name: "c-\(architecture)",
      binary: CLI.packageRoot.path + "/.build-agents/\(architecture)/pvbench-agent-testing",
      emulator: architecture == hostArchitecture ? nil : "qemu-\(architecture)-static")
  }

  /// Every agent the conformance suite proves.
  static let all: [AgentUnderTest] =
    [swift] + ["x86_64", "ppc64le", "s390x", "aarch64"].map(portable)

  /// The program to start and the arguments before the agent's own.
  var command: (executable: String, prefix: [String]) {
    guard let emulator else { return (binary, []) }
    return (Executables.find(emulator) ?? emulator, [binary])
  }

  /// Whether the binary (and its emulator) are there. When not, records why: a failure
  /// under CI (the build must have made it), a known issue elsewhere; either way the
  /// message says to run scripts/build-agents.
  func isAvailable() -> Bool {
    var missing: [String] = []
    if !FileManager.default.isExecutableFile(atPath: binary) { missing.append(binary) }
    if let emulator, Executables.find(emulator) == nil {
      missing.append("\(emulator) (Debian package qemu-user-static; scripts/install-deps)")
    }
    guard !missing.isEmpty else { return true }
    let comment = Comment(
      rawValue:
        "agent \(name): missing \(missing.joined(separator: ", ")); run scripts/build-agents "
        + "(scripts/test does) to build the portable agents.")
    if ProcessInfo.processInfo.environment["CI"] != nil {
      Issue.record(comment)
    } else {
      withKnownIssue { Issue.record(comment) }
    }
    return false
  }

  /// Starts `agent --stdio --root ROOT` with `environment` added.
  /// - Throws: `ChildProcess.SpawnError` when the program cannot start.
  func spawn(root: String, environment: [String: String] = [:]) throws -> ChildProcess {
    let (executable, prefix) = command
    return try ChildProcess(
      executable: executable, arguments: prefix + ["agent", "--stdio", "--root", root],
      environment: environment)
  }

  /// Starts the agent on `tree` and completes the controller's handshake.
  /// - Throws: `ChildProcess.SpawnError` when the agent cannot start, `HostError` when it
  ///   does not answer.
  func connect(
    _ tree: FakeHostTree, host: String = "local", environment: [String: String] = [:]
  ) async throws -> AgentClient {
    let child = try spawn(root: tree.root, environment: environment)
    return try await AgentClient.connected(to: child, host: host, timeout: .seconds(60))
  }

  /// Makes a fake tree, takes its snapshot and connects the agent to it: the set-up of the
  /// tests that change a tree and compare it with how it was. Nil when the agent is not
  /// built (`isAvailable()` has recorded why); the caller removes the tree.
  /// - Throws: what `FakeHostTree.init` and `connect` throw (the tree is removed then).
  func connectToFreshTree(
    _ makeTree: @autoclosure () throws -> FakeHostTree = try FakeHostTree(), host: String = "local"
  ) async throws -> (tree: FakeHostTree, before: [String: String], client: AgentClient)? {
    guard isAvailable() else { return nil }
    let tree = try makeTree()
    let before = tree.snapshot()
    do {
      return (tree, before, try await connect(tree, host: host))
    } catch {
      tree.remove()
      throw error
    }
  }
}
