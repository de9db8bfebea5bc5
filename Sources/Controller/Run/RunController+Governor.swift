import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

extension RunController {
  /// pvbench's steal-time governor: folds and unfolds whole cores of the measure host
  /// through hotplug, paravirt or a cpuset, logging each decision on the timeline.
  func governor(
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
    // One core per step, moved in place: the agent changes only the CPUs that differ and
    // never restores in between (the first fold applies the mode; unfolding the last core
    // leaves it applied with no CPU avoided).
    action.incremental = true
    // Each fold's evacuation goes on the timeline, given at most one interval (at least 1 s)
    // so the loop keeps its pace.
    action.measureEvacuation = true
    action.evacuationTimeoutMilliseconds = max(1000, Int(interval.nanoseconds / 1_000_000))
    var folded = 0
    while !stop.isStopped {
      // Sleep in short slices so that a stop is prompt.
      let wake = monotonicNow() + interval.nanoseconds
      while !stop.isStopped && monotonicNow() < wake {
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
        .governor(controllerNanoseconds: monotonicNow(), detail: detail, avoided: avoided),
        from: point.measure.host)
      do {
        action.cpus = .list(avoided)
        let timing = try await measure.apply(action)
        recorder.recordMode(applied: next > 0, modeID: mode.id, timing: timing, at: recorder.now())
        folded = next
      } catch {
        recorder.fail("\(point.measure.host): the governor could not fold or unfold: \(error)")
        return
      }
    }
  }

}
