import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

// One cell: baseline, clock offsets, workloads, the trigger, and the summary (DESIGN §8).
extension RunController {

  /// Runs one cell; nil only when the cell could not even be written.
  func runCell(_ cell: Cell) async -> CellSummary? {
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
        let session = try await self.connect(name)
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
    let start = monotonicNow()
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
    let schbench = point.measure.schbench
    let triggerTask: Task<Void, Never>?
    // The trigger is asked to stop rather than cancelled: a request cancelled in flight
    // would leave its reply unread and the mode half moved.
    let triggerStop = StopFlag()
    do {
      for session in sessions.values { try await session.startSampling(interval: .seconds(1)) }
      // Every noise host runs the same cycle; the first one's edges drive the trigger.
      if let noise = point.noise {
        for name in noise.hosts {
          try await sessions[name]?.startStress(stressOptions(noise.stress, runtime: schbench))
        }
      }
      let workers = try await measure.startSchbench(
        schbenchOptions(schbench, host: point.host(named: measureName)),
        streamInterval: schbench.interval.duration)
      recorder.recordWorkers(workers)
      if let workers {
        let source = schbench.workers == nil ? "resolved on \(measureName)" : "as set"
        progress.note(
          "\(measureName): schbench -m \(schbench.messageThreads) -t \(workers) (\(source))")
      }
      triggerTask = startTrigger(
        mode: mode, point: point, sessions: sessions, recorder: recorder, stop: triggerStop)
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
    while monotonicNow() < deadline {
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

  func finish(_ recorder: CellRecorder, point: Experiment, status: CellStatus) async
    -> CellSummary?
  {
    // A mode that folds the noise host keeps its burners off the CPUs it avoids, so the
    // host cannot reach the gate; the Guests table shows how busy it was.
    let foldsNoise =
      point.modes.first { $0.id == recorder.cell.modeID }.map { mode in
        point.noise.map { point.foldHosts(of: mode).contains($0.host) } ?? false
      } ?? false
    do {
      return try recorder.finish(
        status: status, settle: point.settle,
        stealAccounting: stealAccounting[point.measure.host] ?? false,
        percentiles: point.report.percentiles, busyGate: foldsNoise ? nil : Self.busyGate)
    } catch {
      progress.note("cannot write cell \(recorder.cell.id): \(error)")
      return nil
    }
  }

  /// Stops the workloads and sampling and restores every host, verifying each restore.
  func stopEverything(
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

  func estimateOffset(_ session: any HostSession) async throws -> ClockOffset {
    var samples: [(sent: UInt64, host: UInt64, received: UInt64)] = []
    for _ in 0..<Self.clockRoundTrips {
      let sent = monotonicNow()
      let host = try await session.monotonicNanoseconds()
      samples.append((sent, host, monotonicNow()))
    }
    return ClockOffset.estimate(samples) ?? .zero
  }

}
