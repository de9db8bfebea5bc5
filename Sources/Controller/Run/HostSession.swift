import AgentProtocol
import Experiments
import LinuxHost
import Results
import Workloads

/// What the run engine needs from one host, whatever carries it (local process, ssh,
/// a QEMU guest's virtio-serial port). `AgentHostSession` implements it over the agent
/// protocol; every time is the HOST's monotonic clock, mapped by the controller.
package protocol HostSession: AnyObject, Sendable {
  var name: String { get }
  /// Events in arrival order, for the whole life of the session.
  var events: AsyncStream<HostEvent> { get }
  /// The host as the manifest records it.
  func facts(role: String) async throws -> HostRecord
  /// CPUs of each core (SMT siblings), as `facts` found them.
  var cores: [[Int]] { get }
  /// The cores this host is entitled to: the experiment file's `entitled:`, else the
  /// platform's (lparcfg) as `facts` found it; nil when neither says.
  var entitledCores: Int? { get }
  /// The host's monotonic clock in nanoseconds, for offset estimation.
  func monotonicNanoseconds() async throws -> UInt64
  /// Applies and verifies a mode; measures evacuation when the request asks.
  func apply(_ request: ModeRequest) async throws -> ModeChange
  /// Restores the baseline (every mode undone) and verifies it.
  func restore() async throws -> ModeChange
  /// Starts the workload; returns the workers per message thread the host resolved (nil
  /// from an agent that does not say).
  func startSchbench(_ options: SchbenchOptions, streamInterval: Duration) async throws -> Int?
  func stopSchbench() async throws
  func startStress(_ options: StressOptions) async throws
  func stopStress() async throws
  func startSampling(interval: Duration) async throws
  func stopSampling() async throws
  /// Ends the session; the agent restores the host before it exits.
  func close() async
}

/// Something a host reported without being asked.
package enum HostEvent: Sendable {
  /// One per-interval (not cumulative) snapshot of the schbench-equivalent.
  case interval(SchbenchInterval)
  /// The schbench-equivalent ended by itself (its runtime elapsed), with its threads'
  /// scheduler counters (nil from a 1.1 agent).
  case workloadDone(WorkloadSchedCounters?)
  /// An actual busy/idle edge of the stress cycler.
  case edge(PhaseEdge)
  /// The busy fraction the stress cycler achieved over one phase.
  case phase(PhaseReport)
  /// `/proc/stat` at one moment: the aggregate line and each CPU.
  case cpuSample(monotonicNanoseconds: UInt64, total: CPUTimes, perCPU: [Int: CPUTimes])
  /// Host-side steal of a guest's vCPUs (QEMU threads' run-queue wait), controller clock,
  /// with each vCPU thread's cumulative run and wait time (nil for a vanished thread).
  case hostSteal(controllerNanoseconds: UInt64, percent: Double, vcpus: [SchedStat?])
  /// The kernel's preferred CPUs changed (or were read for the first time).
  case preferred(PreferredEvent)
  /// WARNING:, Oops or BUG: in the kernel log.
  case kernelWarning(String)
  /// The host went away (agent died, ssh dropped, guest crashed).
  case disconnected(String)
}

/// How long a mode change took, and whether reading it back agreed.
package struct ModeChange: Sendable, Equatable {
  package var milliseconds: Double
  package var verified: Bool
  /// From apply until every avoided CPU fell under 5 % busy; nil when not measured.
  package var evacuationMilliseconds: Double?
  /// What was changed, or why verification failed.
  package var detail: String
}
