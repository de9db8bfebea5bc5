import Workloads

/// A whole experiment file, decoded and checked (DESIGN §4; README "Experiment files").
///
/// The types are `Codable` so that a run stores the resolved experiment beside
/// its results; reading from YAML goes through `ExperimentDecoder`, which
/// reports every problem of the file in one pass with its line and column.
struct Experiment: Sendable, Codable, Equatable {
  var name: String
  var description: String?
  var hosts: [HostSpec]
  var pool: PoolSpec?
  var measure: MeasureSpec
  var noise: NoiseSpec?
  var modes: [ModeSpec]
  var trigger: Trigger
  /// After each phase edge, intervals within this window are tagged `transition`.
  var settle: DurationValue
  var sweep: [SweepAxis]
  var repetitions: Int
  var expect: ExpectSpec?
  var report: ReportSpec
  /// The run stops after this many cells fail in a row.
  var maxConsecutiveFailures: Int

  func host(named name: String) -> HostSpec? { hosts.first { $0.name == name } }
}

struct HostSpec: Sendable, Codable, Equatable {
  var name: String
  var transport: HostTransport
  /// Cores the host is guaranteed (PowerVM entitlement; cgroup weight for qemu guests).
  var entitled: Int?
}

enum HostTransport: Sendable, Codable, Equatable {
  /// This machine through a local agent; `root` points the agent at another sysfs/procfs
  /// tree (a fake kernel tree in tests), nil for the real one.
  case local(root: String?)
  case ssh(SSHHostSpec)
  case qemu(QEMUHostSpec)

  var kind: String {
    switch self {
    case .local: "local"
    case .ssh: "ssh"
    case .qemu: "qemu"
    }
  }
}

struct SSHHostSpec: Sendable, Codable, Equatable {
  /// A host name or an alias from the user's ssh config.
  var host: String
  var user: String?
  var port: Int?
}

struct QEMUHostSpec: Sendable, Codable, Equatable {
  var vcpus: Int
  /// SMT threads per core the guest sees (`-smp threads=`).
  var threadsPerCore: Int
  var memory: ByteSize
  /// `auto` (newest /boot/vmlinuz-*) or a path to a kernel image.
  var kernel: String
  /// Limit the guest to its entitlement with a CPU bandwidth cap.
  var capped: Bool
}

struct PoolSpec: Sendable, Codable, Equatable {
  /// Host CPUs every qemu guest shares.
  var hostCPUs: CPUSelection
}

struct MeasureSpec: Sendable, Codable, Equatable {
  var host: String
  var schbench: SchbenchSpec
}

/// schbench parameters, named after schbench's long options.
struct SchbenchSpec: Sendable, Codable, Equatable {
  var messageThreads: Int
  /// Workers per message thread; nil means one per CPU of the host, as schbench does.
  var workers: Int?
  var runtime: DurationValue
  var warmup: DurationValue
  /// Histogram interval streamed to the controller and tagged by phase.
  var interval: DurationValue
  var sleep: DurationValue
  var operations: Int
  var cacheFootprint: ByteSize
  var locking: Bool
  /// Fixed request rate (`-R`); nil for schbench's default closed loop.
  var requestsPerSecond: Int?
  var messageCPUs: CPUList?
  var workerCPUs: CPUList?
}

struct NoiseSpec: Sendable, Codable, Equatable {
  var host: String
  var stress: StressSpec
}

enum StressEngineChoice: String, Sendable, Codable, CaseIterable {
  case auto
  case stressNG = "stress-ng"
  case builtin
}

enum WorkerCount: Sendable, Codable, Equatable, CustomStringConvertible {
  case all
  case count(Int)

  var description: String {
    switch self {
    case .all: "all"
    case .count(let n): "\(n)"
    }
  }
}

struct StressSpec: Sendable, Codable, Equatable {
  var busy: DurationValue
  var idle: DurationValue
  var workers: WorkerCount
  var engine: StressEngineChoice
}

enum ModeKind: String, Sendable, Codable, CaseIterable {
  case outOfBox = "out-of-box"
  case hotplug, paravirt, preferred, cpuset, governor

  /// The column title reviewers know from the cover letter.
  var defaultLabel: String {
    switch self {
    case .outOfBox: "Out of Box"
    case .hotplug: "cpu_hotplug"
    case .paravirt: "cpu_paravirt"
    case .preferred: "cpu_preferred"
    case .cpuset: "cpuset"
    case .governor: "governor"
    }
  }
}

enum ParavirtInterface: String, Sendable, Codable, CaseIterable {
  case auto, sysfs
  case powerpcDebugfs = "powerpc-debugfs"
}

/// How the governor acts when it decides to fold or unfold a core.
enum GovernorAction: String, Sendable, Codable, CaseIterable {
  case hotplug, paravirt, cpuset
}

struct ModeSpec: Sendable, Codable, Equatable {
  /// Unique within the experiment: the kind, or `kind-N` when a kind repeats.
  var id: String
  var kind: ModeKind
  var label: String
  /// The CPUs the mode avoids (hotplug, paravirt, cpuset).
  var cpus: CPUSelection?
  var paravirtInterface: ParavirtInterface?
  /// preferred and governor: sampling interval and steal thresholds.
  var interval: DurationValue?
  var high: Percentage?
  var low: Percentage?
  var governorAction: GovernorAction?
}

enum Trigger: String, Sendable, Codable, CaseIterable {
  /// Apply the mode at each busy edge of the noise host and undo it at each idle edge.
  case followNoise = "follow-noise"
  /// Hold the mode for the whole cell.
  case `static`
}

/// One swept key: a dotted key path and its values (or the same values as another key).
struct SweepAxis: Sendable, Codable, Equatable {
  var keyPath: String
  var values: [String]
  /// `same-as-busy`: this key takes the value of the named sibling key at every point.
  var sameAs: String?
}

struct ExpectSpec: Sendable, Codable, Equatable {
  var table: String
  var tolerance: Percentage
  /// Published wakeup latency (µs) by mode id, then percentile key (`"99.0"`).
  var wakeupMicroseconds: [String: [String: Double]]
}

struct ReportSpec: Sendable, Codable, Equatable {
  var percentiles: [Double]
  var phase: String
}
