import AgentProtocol
import Foundation
import HostAgent
import Synchronization
import Testing
import Workloads

/// `workload-done` says a run ended by itself; a run the controller stopped sends none,
/// however late its last thread runs (a late one once ended the next cell of a run).
@Suite struct WorkloadDoneTests {
  final class Events: Sendable {
    let names = Mutex<[String]>([])
    func emit(_ name: AgentEventName, _ fields: [String: JSON]) {
      names.withLock { $0.append(name.rawValue) }
    }
    var done: Int { names.withLock { $0.filter { $0 == "workload-done" }.count } }
  }

  func options(runtimeSeconds: Int) -> JSON {
    JSON.encode(
      SchbenchOptions(
        messageThreads: 1, workersPerMessageThread: 1, runtimeSeconds: runtimeSeconds,
        intervalSeconds: 1, sleepMicroseconds: 0, operations: 0, cacheFootprintKilobytes: 8))
  }

  @Test func aStoppedRunSendsNoDoneAndOneThatRanOutSendsOne() throws {
    let host = WorkloadHost()
    let stopped = Events()
    _ = try host.startSchbench(
      params: ["options": options(runtimeSeconds: 30), "stream_interval_ms": 100],
      onlineCPUs: 2, emit: stopped.emit)
    Thread.sleep(forTimeInterval: 0.3)
    #expect(host.stopSchbench()["stopped"] == .bool(true))
    // The run's own thread has had time to end and would have sent it by now.
    Thread.sleep(forTimeInterval: 1)
    #expect(stopped.done == 0, "\(stopped.names.withLock { $0 })")

    let ranOut = Events()
    _ = try host.startSchbench(
      params: ["options": options(runtimeSeconds: 1), "stream_interval_ms": 100],
      onlineCPUs: 2, emit: ranOut.emit)
    // Bounded: 1 s of runtime, then at most 10 s for the done event.
    let deadline = Date().addingTimeInterval(11)
    while ranOut.done == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    #expect(ranOut.done == 1)
    // The agent is free again for the next run.
    #expect(host.stopSchbench()["stopped"] == .bool(false))
  }
}
