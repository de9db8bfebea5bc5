import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

extension RunController {
  /// Moves the mode as the trigger says: at each edge for follow-noise, once for static.
  /// The mode acts on every host it folds (the measure host unless it names others), on
  /// all of them at once: a starved guest can take seconds to apply a cpuset, and the
  /// others should not wait for it.
  func startTrigger(
    mode: ModeSpec, point: Experiment, sessions: [String: any HostSession],
    recorder: CellRecorder, stop: StopFlag
  ) -> Task<Void, Never>? {
    guard mode.kind != .outOfBox, let measure = sessions[point.measure.host] else { return nil }
    let names = point.foldHosts(of: mode)
    let targets: [(name: String, session: any HostSession, request: ModeRequest)] =
      names.compactMap { name in
        guard let session = sessions[name] else { return nil }
        var request = ModeRequest(mode, host: name, entitledCores: session.entitledCores)
        // Evacuation is timed on the first host only, so the others follow without delay.
        request.measureEvacuation = name == names.first
        return (name, session, request)
      }
    // The interval tags follow the measure host's mode, or the first folded host's when
    // the mode leaves the measure host alone.
    let timeline = names.contains(point.measure.host) ? point.measure.host : names.first
    let apply: @Sendable () async -> Void = {
      await withTaskGroup(of: Void.self) { group in
        for target in targets {
          group.addTask {
            do {
              let timing = try await target.session.apply(target.request)
              recorder.recordMode(
                applied: true, modeID: mode.id, timing: timing, at: recorder.now(),
                host: target.name, timeline: target.name == timeline)
            } catch {
              recorder.fail("\(target.name): applying \(mode.id) failed: \(error)")
            }
          }
        }
      }
    }
    let restore: @Sendable () async -> Void = {
      await withTaskGroup(of: Void.self) { group in
        for target in targets {
          group.addTask {
            do {
              let timing = try await target.session.restore()
              recorder.recordMode(
                applied: false, modeID: mode.id, timing: timing, at: recorder.now(),
                host: target.name, timeline: target.name == timeline)
            } catch {
              recorder.fail("\(target.name): restoring after \(mode.id) failed: \(error)")
            }
          }
        }
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
