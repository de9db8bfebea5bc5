import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

extension RunController {
  /// Moves the mode as the trigger says: at each edge for follow-noise, once for static.
  func startTrigger(
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

}
