import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

// The experiment's workload settings as the agent's workload options.
extension RunController {

  /// The agent's options for `spec`. Workers left out of the experiment stay out: the
  /// measured host resolves them from its own online CPUs when the workload starts (as
  /// schbench does), never from the controller's.
  package func schbenchOptions(_ spec: SchbenchSpec, host: HostSpec?) -> SchbenchOptions {
    SchbenchOptions(
      messageThreads: spec.messageThreads,
      workersPerMessageThread: spec.workers,
      runtimeSeconds: max(1, Int(spec.runtime.seconds.rounded())),
      warmupSeconds: Int(spec.warmup.seconds.rounded()),
      intervalSeconds: max(1, Int(spec.interval.seconds.rounded())),
      sleepMicroseconds: Int(spec.sleep.nanoseconds / 1000), operations: spec.operations,
      cacheFootprintKilobytes: Int(spec.cacheFootprint.bytes / 1024), locking: spec.locking,
      requestsPerSecond: spec.requestsPerSecond, messageCPUs: spec.messageCPUs?.cpus,
      workerCPUs: spec.workerCPUs?.cpus)
  }

  package func stressOptions(_ spec: StressSpec, runtime: SchbenchSpec) -> StressOptions {
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
      workers: workers, engine: spec.engine)
  }
}
