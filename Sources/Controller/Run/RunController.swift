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
  /// The governor's readings of the measure host, while a governor cell runs.
  var governorFeed: GovernorFeed?
  var stealAccounting: [String: Bool] = [:]
  /// The experiment (sweep point) the hosts were connected as: a sweep over a local
  /// host's fake tree (`hosts.NAME.local.root`) reconnects that host at each change.
  var hostExperiment: Experiment?

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

  package var roleHosts: [(name: String, role: String)] { plan.experiment.roleHosts }

  // MARK: Run

  /// Connects every host, runs the cells, and restores and closes every host.
  package func run(manifest: inout RunManifest) async throws -> Outcome {
    // Guests boot as the first cell's sweep point says (its kernel and command line).
    if let first = cellsToRun.first {
      connector.boot(as: pointExperiment(first))
      lock.withLock { hostExperiment = pointExperiment(first) }
    }
    try await connectHosts(cell: cellsToRun.first, manifest: &manifest)
    if let accelerator = connector.accelerator { manifest.environment?.accelerator = accelerator }
    try store.writeManifest(manifest)

    var complete = 0
    var invalid = 0
    var failed = 0
    var consecutiveFailures = 0
    var boots = 1
    for (index, cell) in cellsToRun.enumerated() {
      if interrupt.isSet { return .interrupted }
      if connector.guestsNeedReboot(for: pointExperiment(cell)) {
        boots += 1
        try await rebootGuests(for: cell, boot: boots, manifest: &manifest)
        try store.writeManifest(manifest)
      }
      let moved = hostsMoved(to: pointExperiment(cell))
      if !moved.isEmpty {
        try await reconnect(moved, for: cell, manifest: &manifest)
        try store.writeManifest(manifest)
      }
      // The pool's model and window change cgroup files only: no reboot.
      if let change = try connector.configurePool(for: pointExperiment(cell)) {
        progress.note("host pool set to \(change)")
      }
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

  /// The experiment at a cell's sweep point.
  func pointExperiment(_ cell: Cell) -> Experiment {
    plan.loaded.points.indices.contains(cell.pointIndex)
      ? plan.loaded.points[cell.pointIndex].experiment : plan.experiment
  }

  /// Connects every host of a role, checks the measure host, and records each host's facts
  /// (and, when the sweep changes what guests boot, their kernel at this cell's point).
  func connectHosts(cell: Cell?, manifest: inout RunManifest) async throws {
    let bootKeys = plan.experiment.sweep.map(\.keyPath).filter(GuestBootKey.choosesKernel)
    for (name, role) in roleHosts {
      progress.note("connecting to \(name) (\(role))")
      let facts = try await interruptible {
        try await self.connect(name).facts(role: role)
      }
      let folding = plan.experiment.modes.filter {
        plan.experiment.foldHosts(of: $0).contains(name)
      }
      if role == "measure" || !folding.isEmpty {
        do {
          try await preflight(name, modes: role == "measure" ? plan.experiment.modes : folding)
        } catch let error as PreflightError where !bootKeys.isEmpty {
          // A kernel A/B run: a mode this kernel lacks (steal_governor on the baseline)
          // fails its cells here, with the reason, and the other kernel still runs.
          progress.note(
            "\(name) lacks a mode at this kernel; its cells here will fail:\n\(error.report)")
        }
      }
      stealAccounting[name] = facts.stealAccounting
      manifest.hosts.removeAll { $0.name == name }
      manifest.hosts.append(facts)
      progress.note(
        "\(name): \(facts.kernelRelease), CPUs \(facts.cpusOnline) online, "
          + "\(facts.cores) cores x \(facts.threadsPerCore)")
      for recovery in facts.recovered ?? [] { progress.note("\(name): \(recovery.sentence)") }
      if !bootKeys.isEmpty, let cell,
        facts.transport == "qemu" || bootKeys.contains(where: { GuestBootKey.host(of: $0) == name })
      {
        let point = Dictionary(
          cell.point.filter { bootKeys.contains($0.key) }.map { ($0.key, $0.value) },
          uniquingKeysWith: { first, _ in first })
        let record = KernelRecord(
          host: name, point: point, kernelRelease: facts.kernelRelease,
          kernelCmdline: facts.kernelCmdline)
        // Kept in the order first booted (K1, K2 in the report); a later boot of the same
        // configuration refreshes its record in place.
        var kernels = manifest.kernels ?? []
        if let index = kernels.firstIndex(where: { $0.host == name && $0.point == point }) {
          kernels[index] = record
        } else {
          kernels.append(record)
        }
        manifest.kernels = kernels
      }
    }
  }

  /// Closes every session, shuts the guests down (their consoles kept in `boot-N/` of the
  /// run folder) and boots them again as `cell`'s sweep point says.
  func rebootGuests(for cell: Cell, boot: Int, manifest: inout RunManifest) async throws {
    let point = cell.point.filter { GuestBootKey.matches($0.key) }
      .map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    progress.note("rebooting the guests (boot \(boot)) for \(point)")
    await closeAll()
    let consoles = store.layout.bootFolder(boot - 1).path
    try? FileManager.default.createDirectory(
      atPath: consoles, withIntermediateDirectories: true)
    connector.shutdown(consoleFolder: consoles)
    connector.boot(as: pointExperiment(cell))
    lock.withLock { hostExperiment = pointExperiment(cell) }
    try await connectHosts(cell: cell, manifest: &manifest)
  }

  /// The role hosts other than qemu guests whose transport differs at `experiment` from
  /// the one they were connected with (a swept `hosts.NAME.local.root`).
  func hostsMoved(to experiment: Experiment) -> [String] {
    guard let connected = lock.withLock({ hostExperiment }) else { return [] }
    return roleHosts.map(\.name).filter { name in
      guard let now = experiment.host(named: name), let then = connected.host(named: name)
      else { return false }
      if case .qemu = now.transport { return false }
      return now.transport != then.transport
    }
  }

  /// Closes the sessions of `names` and connects them again as `cell`'s sweep point says,
  /// recording each host's facts (and kernel) there.
  func reconnect(_ names: [String], for cell: Cell, manifest: inout RunManifest) async throws {
    progress.note("reconnecting \(names.joined(separator: ", ")) for the next sweep point")
    for name in names {
      let session = lock.withLock { sessions[name] }
      await session?.close()
      lock.withLock {
        sessions[name] = nil
        pumps.removeValue(forKey: name)?.cancel()
      }
    }
    lock.withLock { hostExperiment = pointExperiment(cell) }
    try await connectHosts(cell: cell, manifest: &manifest)
  }

  /// Refuses to start when a host lacks what a mode that folds it needs (the same check
  /// and sentences as `pvbench doctor`), or a cpulist names CPUs it does not have.
  private func preflight(_ name: String, modes: [ModeSpec]) async throws {
    guard let session = lock.withLock({ sessions[name] }) as? AgentHostSession,
      let host = plan.experiment.host(named: name)
    else { return }
    let requests = ModeRequest.requests(for: modes, host: name, entitled: host.entitled)
    let report = await HostDoctor().examine(
      client: session.client, host: name, transport: host.transport.kind, modes: requests)
    if !report.fit { throw PreflightError(report: report.description) }
  }

  /// Runs `operation` (connecting, booting guests) unless an interrupt comes first; then
  /// it returns at once and leaves the operation to the shutdown that follows.
  func interruptible<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T)
    async throws -> T
  {
    let box = PendingResult<T>()
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
    guard let host = (lock.withLock { hostExperiment } ?? plan.experiment).host(named: name) else {
      throw RunError("the experiment has no host named \(name)")
    }
    let session = try await connector.connect(host)
    lock.withLock { sessions[name] = session }
    let pump = Task { [weak self] in
      for await event in session.events {
        guard let self else { return }
        let (recorder, feed) = self.lock.withLock { (self.recorder, self.governorFeed) }
        recorder?.handle(event, from: name)
        feed?.observe(event, from: name)
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
