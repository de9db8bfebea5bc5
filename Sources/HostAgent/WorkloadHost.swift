import AgentProtocol
import Foundation
import LinuxHost
import Workloads

/// The workloads an agent runs for the controller: at most one schbench-equivalent and
/// one stress cycler at a time, their intervals and edges streamed as events.
package final class WorkloadHost: @unchecked Sendable {
  private let lock = NSLock()
  private var schbench: SchbenchRun?
  private var stress: StressCycler?
  private let threadSchedFile: @Sendable (Int, Int32) -> String
  private let schedstatsSwitch: String

  /// - Parameters:
  ///   - threadSchedFile: where each workload thread's `sched` file is (`KernelAccess`).
  ///   - schedstatsSwitch: `/proc/sys/kernel/sched_schedstats` under the root.
  package init(
    threadSchedFile: @escaping @Sendable (Int, Int32) -> String = { _, tid in
      ProcSched.path(process: "\(getpid())", thread: tid)
    },
    schedstatsSwitch: String = ProcSched.schedstatsSwitch
  ) {
    self.threadSchedFile = threadSchedFile
    self.schedstatsSwitch = schedstatsSwitch
  }

  /// Starts the schbench-equivalent; `interval` events follow, and `workload-done` when it
  /// ends by itself (not after `stopSchbench`), with the threads' `sched` counters read
  /// just before they exit (`WorkloadSchedCounters`).
  /// - Parameter onlineCPUs: the host's online CPUs (under the agent's root), from which
  ///   a `workersPerMessageThread` left out of the options is resolved, as schbench does.
  package func startSchbench(
    params: JSON, onlineCPUs: Int,
    emit: @escaping @Sendable (AgentEventName, [String: JSON]) -> Void
  )
    throws(AgentError) -> JSON
  {
    let options: SchbenchOptions = try JSON.decode(params["options"], as: "options")
    let streamMilliseconds = params["stream_interval_ms"]?.intValue ?? 1000
    guard (10...3_600_000).contains(streamMilliseconds) else {
      throw AgentError(
        code: .badParams,
        message: "\"stream_interval_ms\" must be 10…3600000; got \(streamMilliseconds).")
    }
    lock.lock()
    defer { lock.unlock() }
    if schbench != nil {
      throw AgentError(
        code: .busy, message: "A schbench workload is already running; stop it first.")
    }
    let run: SchbenchRun
    let counters = Box<WorkloadSchedCounters>()
    do {
      run = try SchbenchRun(
        options: options, commandLine: ["pvbench", "workload", "schbench"] + options.arguments,
        onlineCPUs: onlineCPUs)
      let file = threadSchedFile
      let schedstats = schedstatsSwitch
      run.beforeThreadsEnd = { tids in
        counters.set(WorkloadSchedCounters(tids: tids, file: file, switchFile: schedstats))
      }
      try run.start(streamInterval: .milliseconds(streamMilliseconds)) { interval in
        emit(.interval, ["interval": JSON.encode(interval)])
      }
    } catch {
      throw AgentError(code: .failed, message: "schbench did not start: \(error).")
    }
    schbench = run
    Thread.detachNewThread { [weak self] in
      let result = run.wait()
      // Only a run that ended by itself says so. One the controller stopped is over for
      // it already, and this thread may get a CPU long after (a starved vCPU: 18 s into
      // the next cell once, which then ended that cell as if its own workload had).
      let ranOut =
        self?.lock.withLock { () -> Bool in
          guard let self, self.schbench === run else { return false }
          self.schbench = nil
          return true
        } ?? false
      if ranOut {
        var members: [String: JSON] = ["result": JSON.encode(result)]
        if let sched = counters.get() { members["sched"] = sched.json }
        emit(.workloadDone, members)
      }
    }
    return [
      "started": true,
      "threads": .int(Int64(options.messageThreads * (run.workersPerMessageThread + 1))),
      "workers_per_message_thread": .int(Int64(run.workersPerMessageThread)),
    ]
  }

  /// Stops the schbench-equivalent and waits for its threads, so a `workload.start`
  /// right after finds the agent free.
  package func stopSchbench() -> JSON {
    let run = lock.withLock {
      let current = schbench
      schbench = nil
      return current
    }
    run?.stop()
    _ = run?.wait()
    return ["stopped": .bool(run != nil)]
  }

  /// Starts the stress cycler; `edge` and `phase` events follow.
  package func startStress(
    params: JSON, emit: @escaping @Sendable (AgentEventName, [String: JSON]) -> Void
  )
    throws(AgentError) -> JSON
  {
    let options: StressOptions = try JSON.decode(
      params["options"], as: "options",
      choices: [
        "engine": StressEngine.allCases.map(\.rawValue),
        "stressNGControl": StressNGControl.allCases.map(\.rawValue),
      ])
    lock.lock()
    defer { lock.unlock() }
    if let running = stress {
      running.stop()
      running.wait()
      stress = nil
    }
    let cycler: StressCycler
    do {
      cycler = try StressCycler(options: options)
      try cycler.start(
        onEdge: { edge in emit(.edge, ["edge": JSON.encode(edge)]) },
        onPhase: { report in emit(.phase, ["report": JSON.encode(report)]) })
    } catch {
      throw AgentError(code: .failed, message: "the stress cycler did not start: \(error).")
    }
    stress = cycler
    return [
      "started": true, "engine": .string(cycler.engine.rawValue),
      "workers": .int(Int64(cycler.workers)),
    ]
  }

  package func stopStress() -> JSON {
    let cycler = lock.withLock {
      let current = stress
      stress = nil
      return current
    }
    cycler?.stop()
    cycler?.wait()
    return ["stopped": .bool(cycler != nil)]
  }

  /// Stops everything (controller gone, signal, shutdown); reaps stress-ng children.
  package func stopAll() {
    _ = stopStress()
    _ = stopSchbench()
  }
}

extension AgentServer {
  /// `workload.start|stop` and `stress.start|stop` (docs/agent-protocol.md).
  package static let workloadHandlers: [String: Handler] = [
    AgentOp.workloadStart.rawValue: { server, params throws(AgentError) in
      let online = server.paths.readTrimmed("\(HostPaths.cpuDirectory)/online")
        .flatMap(CPUSet.cpus(parsing:))
      return try server.workloads.startSchbench(
        params: params, onlineCPUs: online?.count ?? SchbenchOptions.onlineCPUCount,
        emit: { server.emit($0, $1) })
    },
    AgentOp.workloadStop.rawValue: { server, _ throws(AgentError) in server.workloads.stopSchbench()
    },
    AgentOp.stressStart.rawValue: { server, params throws(AgentError) in
      try server.workloads.startStress(params: params, emit: { server.emit($0, $1) })
    },
    AgentOp.stressStop.rawValue: { server, _ throws(AgentError) in server.workloads.stopStress() },
  ]
}

/// A value one thread sets and another reads later.
private final class Box<Value: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value?

  func set(_ newValue: Value) { lock.withLock { value = newValue } }
  func get() -> Value? { lock.withLock { value } }
}
