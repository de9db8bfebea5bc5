import AgentProtocol
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Results
import Testing
import Vocabulary
import Workloads

@Suite(.serialized) struct AgentTests {
  /// A server whose channel is a pipe nobody reads (only `handle(line:)` is used).
  func server(root: String = "/nonexistent-root") -> AgentServer {
    var fds: [Int32] = [0, 0]
    pipe(&fds)
    return AgentServer(
      channel: LineChannel(readFD: fds[0], writeFD: fds[1]), paths: HostPaths(root: root),
      journalPath: "/run/pvbench/journal-unit.jsonl")
  }

  func reply(_ server: AgentServer, _ line: String) throws -> JSON {
    try JSON.parse(server.handle(line: line))
  }

  @Test func malformedAndUnknownRequestsGetErrorReplies() throws {
    let agent = server()
    let garbage = try reply(agent, "{not json")
    #expect(garbage["ok"] == false)
    #expect(garbage["id"] == .null)
    #expect(garbage["error"]?["code"] == "malformed")
    #expect(try reply(agent, #"{"op":"ping"}"#)["error"]?["code"] == "malformed")
    #expect(try reply(agent, #"[1,2]"#)["error"]?["code"] == "malformed")
    #expect(try reply(agent, #"{"id":1,"op":7}"#)["error"]?["code"] == "malformed")
    #expect(
      try reply(agent, #"{"id":2,"op":"ping","params":[]}"#)["error"]?["code"] == "bad-params")
    let unknown = try reply(agent, #"{"id":3,"op":"fly"}"#)
    #expect(unknown["id"] == 3)
    #expect(unknown["error"]?["code"] == "unknown-op")
    let known = AgentOp.allCases.map(\.rawValue).sorted().joined(separator: ", ")
    #expect(
      unknown["error"]?["message"] == .string("Unknown op 'fly'; this agent knows: \(known)."))
  }

  @Test func handshakeComesFirstAndRefusesAnotherMajor() throws {
    let agent = server()
    #expect(try reply(agent, #"{"id":1,"op":"ping"}"#)["error"]?["code"] == "handshake-required")
    let refused = try reply(agent, #"{"id":2,"op":"hello","params":{"protocol":"2.0"}}"#)
    #expect(refused["error"]?["code"] == "protocol-mismatch")
    #expect(try reply(agent, #"{"id":3,"op":"ping"}"#)["error"]?["code"] == "handshake-required")
    let hello = try reply(agent, #"{"id":"h","op":"hello","params":{"protocol":"1.7"}}"#)
    #expect(hello["ok"] == true)
    #expect(hello["id"] == "h")
    #expect(hello["result"]?["protocol"] == .string(AgentProtocol.version))
    #expect(try reply(agent, #"{"id":4,"op":"ping"}"#)["result"]?["pong"] == true)
  }

  @Test func registeredHandlersExtendTheProtocol() throws {
    let agent = server()
    agent.register("workload.echo") { _, params throws(AgentError) in params }
    _ = try reply(agent, #"{"id":1,"op":"hello","params":{"protocol":"1.0"}}"#)
    #expect(
      try reply(agent, #"{"id":2,"op":"workload.echo","params":{"a":1}}"#)["result"]?["a"] == 1)
  }

  @Test func jsonKeepsNanosecondIntegersExact() throws {
    let value: JSON = ["t": .int(1_795_536_626_959_749_346), "s": "a\"b\n", "d": 1.5]
    #expect(value.serialized == #"{"d":1.5,"s":"a\"b\n","t":1795536626959749346}"#)
    #expect(try JSON.parse(value.serialized) == value)
  }

  // The tests below talk to an agent over its protocol: they run for every agent
  // (AgentUnderTest.all), as the conformance suite does.

  @Test(arguments: AgentUnderTest.all)
  func agentReportsFactsOfItsRoot(agent: AgentUnderTest) async throws {
    guard
      case let (tree, _, client)? = try await agent.connectToFreshTree(
        FakeHostTree(cores: 3, threadsPerCore: 2, entitledCapacity: 2), host: "lpar1")
    else { return }
    defer { tree.remove() }
    defer { client.close() }
    #expect(client.helloEvent["version"] == .string(PVBenchVersion.current))
    #expect(client.helloEvent["protocol"] == .string(AgentProtocol.version))
    let facts = try #require(HostFacts(json: try await client.request("facts")))
    #expect(facts.kernelRelease == "6.18.0-pvtest")
    #expect(facts.online == [0, 1, 2, 3, 4, 5])
    #expect(facts.cores == [[0, 1], [2, 3], [4, 5]])
    #expect(facts.threadsPerCore == 2)
    #expect(facts.entitledCapacity == 2)
    #expect(facts.cgroupVersion == .v2)
    #expect(facts.interfaces == ["hotplug", "paravirt-sysfs", "paravirt-sysfs-writable", "cpuset"])
    #expect(facts.stealColumn)
    #expect(facts.stealTicks == 15)
    let clock = try await client.request("clock")
    #expect((clock["monotonic_ns"]?.intValue ?? 0) > 0)
    // Same machine, same clock: the run engine's estimate is within its uncertainty.
    var samples: [(sent: UInt64, host: UInt64, received: UInt64)] = []
    for _ in 0..<5 {
      let sent = monotonicNow()
      let reply = try await client.request("clock")
      samples.append((sent, UInt64(reply["monotonic_ns"]?.intValue ?? 0), monotonicNow()))
    }
    let offset = try #require(ClockOffset.estimate(samples))
    #expect(offset.uncertaintyNanoseconds > 0)
    #expect(offset.offsetNanoseconds.magnitude <= offset.uncertaintyNanoseconds)
    await #expect(throws: HostError.self) { try await client.request("nope") }
  }

  /// `workersPerMessageThread` left out (as the controller sends it when the experiment
  /// leaves `workers` out): the agent resolves it from the online CPUs under its root — six
  /// here, whatever this machine has — shared by the two message threads, as schbench does.
  @Test(arguments: AgentUnderTest.all)
  func workloadDefaultsResolveFromTheAgentsHost(agent: AgentUnderTest) async throws {
    guard
      case let (tree, _, client)? = try await agent.connectToFreshTree(
        FakeHostTree(cores: 3, threadsPerCore: 2), host: "lpar1")
    else { return }
    defer { tree.remove() }
    defer { client.close() }
    let options = SchbenchOptions(
      messageThreads: 2, runtimeSeconds: 1, intervalSeconds: 1, sleepMicroseconds: 0,
      operations: 0, cacheFootprintKilobytes: 8)
    let wire = JSON.encode(options)
    #expect(wire["workersPerMessageThread"] == nil)
    let reply = try await client.request(
      "workload.start", ["options": wire, "stream_interval_ms": 200])
    #expect(reply["workers_per_message_thread"]?.intValue == 3)
    #expect(reply["threads"]?.intValue == 8)
    _ = try await client.request("workload.stop")
  }

  @Test(arguments: AgentUnderTest.all)
  func samplerAndKernelLogWatchEmitEvents(agent: AgentUnderTest) async throws {
    guard
      case let (tree, _, client)? = try await agent.connectToFreshTree(
        FakeHostTree(cores: 2, threadsPerCore: 1))
    else { return }
    defer { tree.remove() }
    defer { client.close() }
    _ = try await client.request("kmsg.watch")
    let started = try await client.request("sample.start", ["interval_ms": 50])
    #expect(started["fields"]?.arrayValue?.count == 8)
    try tree.write(
      "/dev/kmsg", "6,1,2,-;all fine\n4,2,3,-;WARNING: CPU: 1 PID: 9 at kernel/x.c:1\n")
    // Bounded even if no event ever comes: a watchdog task ends the wait after 20 s.
    let (samples, warning) = await withTaskGroup(of: (Int, String?)?.self) { group in
      group.addTask {
        var samples = 0
        var warning: String?
        for await event in client.events {
          if event["event"] == "samples" {
            samples += 1
            #expect(event["cpus"]?["1"] == [10, 0, 10, 100, 0, 0, 0, 1])
          }
          if event["event"] == "kernel-warning" { warning = event["message"]?.stringValue }
          if samples >= 3 && warning != nil { break }
        }
        return (samples, warning)
      }
      group.addTask {
        try? await Task.sleep(for: .seconds(20))
        return nil
      }
      let first = await group.next() ?? nil
      group.cancelAll()
      return first ?? (0, nil)
    }
    _ = try await client.request("sample.stop")
    #expect(samples >= 3)
    #expect(warning == "WARNING: CPU: 1 PID: 9 at kernel/x.c:1")
  }

  @Test(arguments: AgentUnderTest.all)
  func agentRestoresWhenItsControllerDisappears(agent: AgentUnderTest) async throws {
    guard case let (tree, before, client)? = try await agent.connectToFreshTree()
    else { return }
    defer { tree.remove() }
    _ = try await client.request("mode.apply", ["mode": "hotplug", "cpus": "4-7"])
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-3\n")
    client.close()  // stdin EOF
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
    #expect(RestoreJournal.leftovers(paths: tree.paths).isEmpty)
  }

  @Test(arguments: AgentUnderTest.all)
  func shutdownRestoresAndRepliesWhatItUndid(agent: AgentUnderTest) async throws {
    guard case let (tree, before, client)? = try await agent.connectToFreshTree()
    else { return }
    defer { tree.remove() }
    let applied = try await client.request(
      "mode.apply", ["mode": "paravirt", "cpus": "6-7", "evacuation": true])
    // The fake /proc/stat does not move: no avoided CPU is busy in the first window.
    #expect((applied["evacuation_ms"]?.doubleValue ?? 0) >= 200)
    #expect(applied["evacuation_timeout"] == false)
    #expect(applied["evacuation_busy_percent"] == ["6": 0, "7": 0])
    let reply = try await client.shutdown()
    #expect(reply["restored"]?["undone"] == 1)
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test(arguments: AgentUnderTest.all, [SIGTERM, SIGINT, SIGHUP])
  func agentRestoresOnSignals(agent: AgentUnderTest, signal: Int32) async throws {
    guard
      case let (tree, before, client)? = try await agent.connectToFreshTree(
        FakeHostTree(cgroup: .v2))
    else { return }
    defer { tree.remove() }
    defer { client.close() }
    _ = try await client.request("mode.apply", ["mode": "cpuset", "cpus": "6-7"])
    #expect(FakeHostTree.differences(tree.snapshot(), before) != [])
    let pid = Int32(client.helloEvent["pid"]?.intValue ?? 0)
    #expect(pid > 0)
    kill(pid, signal)
    // The event stream ends when the agent exits; it must have restored by then.
    let ended = await withTaskGroup(of: Bool.self) { group in
      group.addTask {
        for await _ in client.events {}
        return true
      }
      group.addTask {
        try? await Task.sleep(for: .seconds(20))
        return false
      }
      let first = await group.next() ?? false
      group.cancelAll()
      return first
    }
    #expect(ended, "the agent did not exit within 20 s of signal \(signal)")
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }
}
