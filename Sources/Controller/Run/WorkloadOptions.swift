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
    Self.schbenchOptions(spec, host: host)
  }

  /// The schbench options a cell runs with `spec` on `host`; workers left out stay out.
  package static func schbenchOptions(_ spec: SchbenchSpec, host: HostSpec?) -> SchbenchOptions {
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

  /// `options` as a schbench command line with schbench's short flags, for report headers.
  package static func schbenchCommandLine(_ options: SchbenchOptions) -> String {
    var words = ["schbench", "-m", "\(options.messageThreads)"]
    // Without -t, schbench (and pvbench on the measured host) takes the host's CPUs.
    if let workers = options.workersPerMessageThread { words += ["-t", "\(workers)"] }
    words += [
      "-r", "\(options.runtimeSeconds)", "-w", "\(options.warmupSeconds)",
      "-i", "\(options.intervalSeconds)", "-s", "\(options.sleepMicroseconds)",
      "-n", "\(options.operations)", "-F", "\(options.cacheFootprintKilobytes)",
    ]
    if !options.locking { words.append("-L") }
    if let rps = options.requestsPerSecond { words += ["-R", "\(rps)"] }
    if let cpus = options.messageCPUs { words += ["-M", CPUSet.format(cpus)] }
    if let cpus = options.workerCPUs { words += ["-W", CPUSet.format(cpus)] }
    return words.joined(separator: " ")
  }

  /// The workload record of the manifest for `experiment`'s measure host.
  package static func workloadRecord(_ experiment: Experiment) -> WorkloadRecord {
    let host = experiment.hosts.first { $0.name == experiment.measure.host }
    let options = schbenchOptions(experiment.measure.schbench, host: host)
    return WorkloadRecord(
      schbenchCommandLine: schbenchCommandLine(options), runtimeSeconds: options.runtimeSeconds,
      intervalSeconds: options.intervalSeconds, requestsPerSecond: options.requestsPerSecond)
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
