import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

/// Drives every host of an experiment through its cells (DESIGN §8) and writes the
/// results store. Never leaves a host changed: every cell ends with a verified restore,
/// and an interrupted or failing run restores every host it can still reach.
package final class RunController: @unchecked Sendable {
  package let plan: ExperimentPlan
  package let store: ResultsStore
  package let connector: HostConnector
  package let progress: RunProgress
  package let interrupt: InterruptFlag
  /// Cells to run, in plan order (all of them, or what `--resume` left).
  package let cellsToRun: [Cell]

  var sessions: [String: any HostSession] = [:]
  var pumps: [String: Task<Void, Never>] = [:]
  let lock = NSLock()
  var recorder: CellRecorder?
  var stealAccounting: [String: Bool] = [:]

  /// A busy phase of the noise host below this fraction makes the cell invalid.
  package static let busyGate = 0.75
  /// Round trips per host for the clock offset.
  package static let clockRoundTrips = 8

  package init(
    plan: ExperimentPlan, store: ResultsStore, connector: HostConnector, progress: RunProgress,
    interrupt: InterruptFlag, cellsToRun: [Cell]
  ) {
    self.plan = plan
    self.store = store
    self.connector = connector
    self.progress = progress
    self.interrupt = interrupt
    self.cellsToRun = cellsToRun
  }

  package enum Outcome: Equatable {
    case finished(complete: Int, invalid: Int, failed: Int)
    case interrupted
    case stoppedAfterFailures(Int)
  }

  package var roleHosts: [(name: String, role: String)] {
    var hosts = [(plan.experiment.measure.host, "measure")]
    if let noise = plan.experiment.noise { hosts.append((noise.host, "noise")) }
    return hosts
  }

  // MARK: Run

  /// Connects every host, runs the cells, and restores and closes every host.
  package func run(manifest: inout RunManifest) async throws -> Outcome {
    for (name, role) in roleHosts {
      progress.note("connecting to \(name) (\(role))")
      let facts = try await interruptible {
        try await self.connect(name).facts(role: role)
      }
      if role == "measure" { try await preflight(name) }
      stealAccounting[name] = facts.stealAccounting
      manifest.hosts.removeAll { $0.name == name }
      manifest.hosts.append(facts)
      progress.note(
        "\(name): \(facts.kernelRelease), CPUs \(facts.cpusOnline) online, "
          + "\(facts.cores) cores x \(facts.threadsPerCore)")
      for recovery in facts.recovered ?? [] { progress.note("\(name): \(recovery.sentence)") }
    }
    if let accelerator = connector.accelerator { manifest.environment?.accelerator = accelerator }
    try store.writeManifest(manifest)

    var complete = 0
    var invalid = 0
    var failed = 0
    var consecutiveFailures = 0
    for (index, cell) in cellsToRun.enumerated() {
      if interrupt.isSet { return .interrupted }
      progress.startCell(
        cell, number: index + 1, of: cellsToRun.count,
        secondsAfter: cellsToRun[(index + 1)...].reduce(0) { $0 + $1.estimatedSeconds },
        experiment: plan.experiment)
      guard let summary = await runCell(cell) else {
        throw RunError(
          "cell \(cell.id) could not be written under \(store.runDirectory.path); see above")
      }
      progress.endCell(summary)
      switch summary.status {
      case .complete: complete += 1
      case .invalid: invalid += 1
      case .failed: failed += 1
      case .partial: return .interrupted
      }
      if interrupt.isSet { return .interrupted }
      consecutiveFailures = summary.status == .failed ? consecutiveFailures + 1 : 0
      if consecutiveFailures >= plan.experiment.maxConsecutiveFailures {
        return .stoppedAfterFailures(consecutiveFailures)
      }
    }
    return .finished(complete: complete, invalid: invalid, failed: failed)
  }

  /// Refuses to start when the measure host lacks what a mode needs (the same check and
  /// sentences as `pvbench doctor`), or a cpulist names CPUs it does not have.
  private func preflight(_ name: String) async throws {
    guard let session = lock.withLock({ sessions[name] }) as? AgentHostSession,
      let host = plan.experiment.host(named: name)
    else { return }
    let requests = ModeRequest.requests(
      for: plan.experiment.modes, host: name, entitled: host.entitled)
    let report = await HostDoctor().examine(
      client: session.client, host: name, transport: host.transport.kind, modes: requests)
    if !report.fit { throw PreflightError(report: report.description) }
  }

  /// Runs `operation` (connecting, booting guests) unless an interrupt comes first; then
  /// it returns at once and leaves the operation to the shutdown that follows.
  func interruptible<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    let box = ResultBox<T>()
    let task = Task { box.set(await Result { try await operation() }) }
    while true {
      if let result = box.value { return try result.get() }
      if interrupt.isSet {
        task.cancel()
        throw InterruptedError(signal: interrupt.name)
      }
      try? await Task.sleep(for: .milliseconds(100))
    }
  }

  func connect(_ name: String) async throws -> any HostSession {
    if let session = lock.withLock({ sessions[name] }) { return session }
    guard let host = plan.experiment.host(named: name) else {
      throw RunError("the experiment has no host named \(name)")
    }
    let session = try await connector.connect(host)
    lock.withLock { sessions[name] = session }
    let pump = Task { [weak self] in
      for await event in session.events {
        guard let self else { return }
        let recorder = self.lock.withLock { self.recorder }
        recorder?.handle(event, from: name)
        if case .disconnected = event { self.dropSession(name) }
      }
    }
    lock.withLock { pumps[name] = pump }
    return session
  }

  func dropSession(_ name: String) {
    lock.withLock {
      sessions[name] = nil
      pumps[name] = nil
    }
  }

  package func closeAll() async {
    let all = lock.withLock { Array(sessions.values) }
    for session in all { await session.close() }
    lock.withLock {
      sessions.removeAll()
      pumps.values.forEach { $0.cancel() }
      pumps.removeAll()
    }
  }
}
