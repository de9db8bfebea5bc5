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

  private var sessions: [String: any HostSession] = [:]
  private var pumps: [String: Task<Void, Never>] = [:]
  private let lock = NSLock()
  private var recorder: CellRecorder?
  private var stealAccounting: [String: Bool] = [:]

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
    }
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
  private func interruptible<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T)
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

  private func connect(_ name: String) async throws -> any HostSession {
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

  private func dropSession(_ name: String) {
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

  // MARK: One cell

  /// Runs one cell; nil only when the cell could not even be written.
  private func runCell(_ cell: Cell) async -> CellSummary? {
    let point = plan.loaded.points[cell.pointIndex].experiment
    guard let mode = point.modes.first(where: { $0.id == cell.modeID }) else { return nil }
    let measureName = point.measure.host
    let noiseName = point.noise?.host
    let writer: CellWriter
    do {
      writer = try store.startCell(cell.id)
    } catch {
      progress.note("cannot start cell \(cell.id): \(error)")
      return nil
    }

    // Reconnect hosts a previous cell lost; restore and verify the baseline everywhere.
    var sessions: [String: any HostSession] = [:]
    var offsets: [String: ClockOffset] = [:]
    var setupFailure: String?
    for (name, _) in roleHosts {
      do {
        let session = try await connect(name)
        let timing = try await session.restore()
        if !timing.verified {
          setupFailure = "\(name): the baseline did not verify: \(timing.detail)"
        }
        offsets[name] = try await estimateOffset(session)
        sessions[name] = session
      } catch {
        setupFailure = setupFailure ?? "\(name): \(error)"
      }
    }
    let start = Monotonic.nanoseconds()
    let recorder = CellRecorder(
      cell: cell, writer: writer, measureHost: measureName, noiseHost: noiseName, start: start,
      offsets: offsets)
    for (name, offset) in offsets {
      recorder.append(
        EventRecord(
          timeNanoseconds: 0, host: name, kind: .clockOffset,
          detail: "\(offset.offsetNanoseconds) ns ± \(offset.uncertaintyNanoseconds) ns"))
    }
    if let setupFailure {
      recorder.fail(setupFailure)
      return await finish(recorder, point: point, status: .failed)
    }
    lock.withLock { self.recorder = recorder }
    defer { lock.withLock { self.recorder = nil } }

    let measure = sessions[measureName]!
    let noise = noiseName.flatMap { sessions[$0] }
    let schbench = point.measure.schbench
    let triggerTask: Task<Void, Never>?
    // The trigger is asked to stop rather than cancelled: a request cancelled in flight
    // would leave its reply unread and the mode half moved.
    let triggerStop = StopFlag()
    do {
      for session in sessions.values { try await session.startSampling(interval: .seconds(1)) }
      if let noise, let stress = point.noise?.stress {
        try await noise.startStress(stressOptions(stress, runtime: schbench))
      }
      try await measure.startSchbench(
        schbenchOptions(schbench, host: point.host(named: measureName)),
        streamInterval: schbench.interval.duration)
      triggerTask = startTrigger(
        mode: mode, point: point, measure: measure, recorder: recorder, stop: triggerStop)
    } catch {
      recorder.fail("\(error)")
      await stopEverything(sessions, recorder: recorder, mode: mode)
      return await finish(recorder, point: point, status: .failed)
    }

    // Wait for the runtime (plus warmup and a grace for the last interval), an
    // interrupt, or a host failure.
    let deadline =
      start + schbench.runtime.nanoseconds + schbench.warmup.nanoseconds + 5_000_000_000
    var status = CellStatus.complete
    while Monotonic.nanoseconds() < deadline {
      if interrupt.isSet {
        status = .partial
        recorder.invalidate("interrupted by the user")
        break
      }
      if recorder.failure != nil || recorder.workloadDone { break }
      progress.tick(recorder: recorder)
      try? await Task.sleep(for: .milliseconds(200))
    }
    triggerStop.stop()
    await triggerTask?.value
    await stopEverything(sessions, recorder: recorder, mode: mode)
    return await finish(recorder, point: point, status: status)
  }

  private func finish(_ recorder: CellRecorder, point: Experiment, status: CellStatus) async
    -> CellSummary?
  {
    do {
      return try recorder.finish(
        status: status, settle: point.settle,
        stealAccounting: stealAccounting[point.measure.host] ?? false,
        percentiles: point.report.percentiles, busyGate: Self.busyGate)
    } catch {
      progress.note("cannot write cell \(recorder.cell.id): \(error)")
      return nil
    }
  }

  /// Stops the workloads and sampling and restores every host, verifying each restore.
  private func stopEverything(
    _ sessions: [String: any HostSession], recorder: CellRecorder, mode: ModeSpec
  ) async {
    let measureName = recorder.measureHost
    for (name, session) in sessions {
      try? await session.stopStress()
      if name == measureName { try? await session.stopSchbench() }
      try? await session.stopSampling()
      do {
        let timing = try await session.restore()
        if name == measureName {
          recorder.recordMode(applied: false, modeID: mode.id, timing: timing, at: recorder.now())
        } else if !timing.verified {
          recorder.invalidate("\(name): restore did not verify: \(timing.detail)")
        }
      } catch {
        recorder.fail("\(name): restore failed: \(error)")
      }
    }
  }

  /// Moves the mode as the trigger says: at each edge for follow-noise, once for static.
  private func startTrigger(
    mode: ModeSpec, point: Experiment, measure: any HostSession, recorder: CellRecorder,
    stop: StopFlag
  ) -> Task<Void, Never>? {
    guard mode.kind != .outOfBox else { return nil }
    var request = ModeRequest(
      mode, host: point.measure.host, entitledCores: measure.entitledCores)
    request.measureEvacuation = true
    let apply: @Sendable () async -> Void = { [request] in
      do {
        let timing = try await measure.apply(request)
        recorder.recordMode(applied: true, modeID: mode.id, timing: timing, at: recorder.now())
      } catch {
        recorder.fail("\(point.measure.host): applying \(mode.id) failed: \(error)")
      }
    }
    let restore: @Sendable () async -> Void = {
      do {
        let timing = try await measure.restore()
        recorder.recordMode(applied: false, modeID: mode.id, timing: timing, at: recorder.now())
      } catch {
        recorder.fail("\(point.measure.host): restoring after \(mode.id) failed: \(error)")
      }
    }
    if mode.kind == .governor {
      return Task {
        await self.governor(
          mode: mode, point: point, measure: measure, recorder: recorder, stop: stop)
      }
    }
    // The preferred mode's kernel governor decides by itself; static holds the mode.
    if point.trigger == .static || mode.kind == .preferred
      || point.noise == nil
    {
      return Task { await apply() }
    }
    // follow-noise: watch the recorded edges and act on each new one, in order.
    return Task {
      var seen = 0
      var applied = false
      while !stop.isStopped {
        let edges = recorder.edgePhases()
        while seen < edges.count && !stop.isStopped {
          let phase = edges[seen]
          seen += 1
          if phase == .busy && !applied {
            await apply()
            applied = true
          } else if phase != .busy && applied {
            await restore()
            applied = false
          }
        }
        try? await Task.sleep(for: .milliseconds(20))
      }
    }
  }

  /// pvbench's steal-time governor: folds and unfolds whole cores of the measure host
  /// through hotplug, paravirt or a cpuset, logging each decision on the timeline.
  private func governor(
    mode: ModeSpec, point: Experiment, measure: any HostSession, recorder: CellRecorder,
    stop: StopFlag
  ) async {
    let cores = measure.cores
    // Never below the entitled cores; with no entitlement known, keep one core.
    let entitled = measure.entitledCores ?? 1
    let policy = GovernorPolicy(
      highPercent: mode.high?.percent ?? 5, lowPercent: mode.low?.percent ?? 2,
      foldableCores: max(0, cores.count - entitled))
    let interval = mode.interval ?? DurationValue(seconds: 1)
    var action = ModeRequest(mode, host: point.measure.host, entitledCores: entitled)
    var folded = 0
    while !stop.isStopped {
      // Sleep in short slices so that a stop is prompt.
      let wake = Monotonic.nanoseconds() + interval.nanoseconds
      while !stop.isStopped && Monotonic.nanoseconds() < wake {
        try? await Task.sleep(for: .milliseconds(50))
      }
      if stop.isStopped { break }
      guard let steal = recorder.recentStealPercent(window: interval.nanoseconds) else { continue }
      let next = policy.next(folded: folded, stealPercent: steal)
      guard next != folded else { continue }
      let avoided = GovernorPolicy.avoidedCPUs(cores: cores, folded: next)
      let detail =
        String(format: "steal %.1f%%: ", steal)
        + (next > folded ? "fold" : "unfold") + " to \(next) folded cores"
        + (avoided.isEmpty ? "" : " (avoid \(CPUSet.format(avoided)))")
      recorder.handle(
        .governor(monotonicNanoseconds: Monotonic.nanoseconds(), detail: detail),
        from: point.measure.host)
      do {
        let timing: ModeChange
        if next == 0 {
          timing = try await measure.restore()
        } else {
          action.cpus = .list(avoided)
          timing = try await measure.apply(action)
        }
        recorder.recordMode(applied: next > 0, modeID: mode.id, timing: timing, at: recorder.now())
        folded = next
      } catch {
        recorder.fail("\(point.measure.host): the governor could not fold or unfold: \(error)")
        return
      }
    }
  }

  private func estimateOffset(_ session: any HostSession) async throws -> ClockOffset {
    var samples: [(sent: UInt64, host: UInt64, received: UInt64)] = []
    for _ in 0..<Self.clockRoundTrips {
      let sent = Monotonic.nanoseconds()
      let host = try await session.monotonicNanoseconds()
      samples.append((sent, host, Monotonic.nanoseconds()))
    }
    return ClockOffset.estimate(samples) ?? .zero
  }

  // MARK: Options

  package func schbenchOptions(_ spec: SchbenchSpec, host: HostSpec?) -> SchbenchOptions {
    var workers = spec.workers
    if workers == nil, case .qemu(let qemu)? = host?.transport { workers = qemu.vcpus }
    return SchbenchOptions(
      messageThreads: spec.messageThreads,
      workersPerMessageThread: workers ?? SchbenchOptions.onlineCPUCount,
      runtimeSeconds: max(1, Int(spec.runtime.seconds.rounded())),
      warmupSeconds: Int(spec.warmup.seconds.rounded()),
      intervalSeconds: max(1, Int(spec.interval.seconds.rounded())),
      sleepMicroseconds: Int(spec.sleep.nanoseconds / 1000), operations: spec.operations,
      cacheFootprintKilobytes: Int(spec.cacheFootprint.bytes / 1024), locking: spec.locking,
      requestsPerSecond: spec.requestsPerSecond, messageCPUs: spec.messageCPUs?.cpus,
      workerCPUs: spec.workerCPUs?.cpus)
  }

  package func stressOptions(_ spec: StressSpec, runtime: SchbenchSpec) -> StressOptions {
    let engine: StressEngine =
      switch spec.engine {
      case .auto: .auto
      case .stressNG: .stressNG
      case .builtin: .builtin
      }
    let workers: Int? =
      switch spec.workers {
      case .all: nil
      case .count(let n): n
      }
    // Cycle for as long as the measurement runs, and a little longer.
    return StressOptions(
      busyNanoseconds: spec.busy.nanoseconds, idleNanoseconds: spec.idle.nanoseconds,
      durationNanoseconds: runtime.runtime.nanoseconds + runtime.warmup.nanoseconds
        + 2_000_000_000,
      workers: workers, engine: engine)
  }
}

extension CellRecorder {
  /// The phases the noise host's edges began, in order of arrival.
  package func edgePhases() -> [Phase] { edgeList().map(\.phase) }
}

/// Opens a session to a host of the experiment (local process, ssh, or a booted guest).
package protocol HostConnector: Sendable {
  func connect(_ host: HostSpec) async throws -> any HostSession
}

/// A result filled in by one task and polled by another.
package final class ResultBox<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Result<T, any Error>?
  package var value: Result<T, any Error>? { lock.withLock { stored } }
  package func set(_ result: Result<T, any Error>) { lock.withLock { stored = result } }
}

extension Result where Failure == any Error {
  package init(catching body: () async throws -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}

/// A host cannot run the experiment; nothing was changed on any host.
package struct PreflightError: Error, CustomStringConvertible, Sendable {
  package var report: String
  package var description: String { report }

  /// Memberwise.
  package init(
    report: String
  ) {
    self.report = report
  }
}

/// The user interrupted the run before its cells started.
package struct InterruptedError: Error, CustomStringConvertible, Sendable {
  package var signal: String
  package var description: String { "interrupted by \(signal) while connecting to the hosts" }

  /// Memberwise.
  package init(
    signal: String
  ) {
    self.signal = signal
  }
}

/// A run that cannot go on; the message says what happened and what to do.
package struct RunError: Error, CustomStringConvertible, Sendable {
  package var description: String
  package init(_ description: String) { self.description = description }
}
