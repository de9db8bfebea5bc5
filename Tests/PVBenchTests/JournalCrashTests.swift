import AgentProtocol
import Controller
import Foundation
import HostAgent
import LinuxHost
import Results
import Testing

/// Kills the agent with SIGKILL at every step of a mode change and shows that
/// `pvbench restore` puts the fake tree back, and that a second restore has nothing to do;
/// for every agent (AgentUnderTest.all), so the portable agent's journal is the Swift
/// agent's format, line for line.
@Suite(.serialized) struct JournalCrashTests {
  static let hotplugSteps = Array(1...8)  // 4 CPUs: journal + change each
  static let cpusetSteps = Array(1...12)  // subtree, mkdir, cpuset.cpus, 3 moves

  /// Makes the tree, kills the agent at `step` of applying `params` on it, and checks that
  /// `pvbench restore` puts it back; nothing when the agent is not built.
  func crashAndRestore(
    agent: AgentUnderTest, tree makeTree: () throws -> FakeHostTree, step: Int, params: JSON
  ) async throws {
    guard agent.isAvailable() else { return }
    let tree = try makeTree()
    defer { tree.remove() }
    let before = tree.snapshot()
    let client = try await agent.connect(
      tree, environment: ["PVBENCH_CRASH_AT_STEP": "\(step)"])
    defer { client.close() }
    await #expect(throws: HostError.self) { try await client.request("mode.apply", params) }
    let journals = RestoreJournal.leftovers(paths: tree.paths)
    #expect(journals.count == 1)
    let first = ChildProcess.run(BuiltBinary.path, ["restore", "--root", tree.root])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(
      first.stdout.hasSuffix(" changes, verified\n")
        || first.stdout.hasSuffix(" change, verified\n"))
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [], "step \(step)")
    let second = ChildProcess.run(BuiltBinary.path, ["restore", "--root", tree.root])
    #expect(second.status == 0)
    #expect(second.stdout == "nothing to restore\n")
  }

  @Test(arguments: AgentUnderTest.all, hotplugSteps)
  func hotplug(agent: AgentUnderTest, step: Int) async throws {
    try await crashAndRestore(
      agent: agent, tree: { try FakeHostTree(cores: 4, threadsPerCore: 2) }, step: step,
      params: ["mode": "hotplug", "cpus": "4-7"])
  }

  @Test(arguments: AgentUnderTest.all, cpusetSteps)
  func cpuset(agent: AgentUnderTest, step: Int) async throws {
    try await crashAndRestore(
      agent: agent,
      tree: {
        let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, cgroup: .v2)
        try tree.write("/sys/fs/cgroup/cgroup.subtree_control", "cpu memory\n")
        return tree
      },
      step: step, params: ["mode": "cpuset", "cpus": "4-7"])
  }

  @Test(arguments: AgentUnderTest.all, [1, 2])
  func paravirt(agent: AgentUnderTest, step: Int) async throws {
    try await crashAndRestore(
      agent: agent, tree: { try FakeHostTree(cores: 4, threadsPerCore: 2) }, step: step,
      params: ["mode": "paravirt", "cpus": "4-7"])
  }

  @Test(arguments: AgentUnderTest.all, [1, 2])
  func preferred(agent: AgentUnderTest, step: Int) async throws {
    try await crashAndRestore(
      agent: agent, tree: { try FakeHostTree(stealGovernorModule: true) }, step: step,
      params: ["mode": "preferred"])
  }

  /// Every agent, the emulated ones too: the portable agent names itself `pvbench-agent`
  /// (PR_SET_NAME), which qemu-user passes on, so /proc/PID/stat shows that name rather
  /// than the emulator's and `pvbench restore` can tell that it runs.
  @Test(arguments: AgentUnderTest.all)
  func restoreLeavesTheJournalOfARunningAgentAlone(agent: AgentUnderTest) async throws {
    guard case let (tree, before, client)? = try await agent.connectToFreshTree()
    else { return }
    defer { tree.remove() }
    _ = try await client.request("mode.apply", ["mode": "hotplug", "cpus": "7"])
    let applied = tree.snapshot()
    let result = ChildProcess.run(BuiltBinary.path, ["restore", "--root", tree.root])
    #expect(result.status == 0)
    #expect(result.stdout.hasSuffix(": skipped, its agent is still running and restores itself\n"))
    #expect(FakeHostTree.differences(tree.snapshot(), applied) == [])
    client.close()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test(arguments: AgentUnderTest.all)
  func aNewAgentRestoresWhatAKilledAgentLeftAndSaysSoInItsHello(agent: AgentUnderTest)
    async throws
  {
    guard agent.isAvailable() else { return }
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    let first = try await agent.connect(tree)
    _ = try await first.request("mode.apply", ["mode": "hotplug", "cpus": "6-7"])
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-5\n")
    let pid = Int32(first.helloEvent["pid"]?.intValue ?? 0)
    #expect(pid > 0)
    kill(pid, SIGKILL)
    // Bounded: the kernel ends a SIGKILLed process at once; allow 5 s on a loaded machine.
    for _ in 0..<50 where JournalRestorer.isLiveAgent(pid: Int(pid)) { usleep(100_000) }
    #expect(!JournalRestorer.isLiveAgent(pid: Int(pid)))
    first.close()
    // The dead agent's CPUs are still offline and its journal is still there.
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-5\n")
    let journal = "/run/pvbench/journal-\(pid).jsonl"
    #expect(RestoreJournal.leftovers(paths: tree.paths) == [journal])

    let second = try await agent.connect(tree)
    defer { second.close() }
    let recovered = second.helloEvent["recovered"]?.arrayValue ?? []
    #expect(
      recovered == [
        ["journal": .string(journal), "undone": 2, "restored": true, "problems": []]
      ])
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-7\n")
    #expect(RestoreJournal.leftovers(paths: tree.paths) == [])
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
    // The controller's reading of it, as the manifest records it.
    #expect(
      AgentHostSession.recovered(hello: second.helloEvent).map(\.sentence) == [
        "restored 2 changes left by a dead agent (\(journal)), read back"
      ])
  }

  @Test func restoreOfAJournalThatDoesNotExistSaysSo() {
    let result = ChildProcess.run(
      BuiltBinary.path, ["restore", "--root", NSTemporaryDirectory(), "--journal", "/run/x.jsonl"])
    #expect(result.status == 0)
    #expect(result.stderr.hasSuffix("run/x.jsonl'; nothing to restore.\n"))
  }
}
