import LinuxHost
import Vocabulary
import Workloads

/// A whole experiment file, decoded and checked (DESIGN §4; README "Experiment files").
///
/// The types are `Codable` so that a run stores the resolved experiment beside
/// its results; reading from YAML goes through `ExperimentDecoder`, which
/// reports every problem of the file in one pass with its line and column.
package struct Experiment: Sendable, Codable, Equatable {
  package var name: String
  package var description: String?
  package var hosts: [HostSpec]
  package var pool: PoolSpec?
  package var measure: MeasureSpec
  package var noise: NoiseSpec?
  package var modes: [ModeSpec]
  package var trigger: Trigger
  /// After each phase edge, intervals within this window are tagged `transition`.
  package var settle: DurationValue
  package var sweep: [SweepAxis]
  package var repetitions: Int
  package var expect: ExpectSpec?
  package var report: ReportSpec
  /// The run stops after this many cells fail in a row.
  package var maxConsecutiveFailures: Int

  package func host(named name: String) -> HostSpec? { hosts.first { $0.name == name } }

  /// How the pool dispatches qemu guests' vCPUs: `pool.model`, `dispatch` when not given.
  package var poolModel: PoolModel { pool?.model ?? .standard }

  /// The dispatch window of the pool: `pool.window`, 10 ms when not given.
  package var poolWindow: DurationValue { pool?.window ?? PoolSpec.defaultWindow }

  /// The pool claims of the qemu guests that take part (`roleHosts`), in file order: the
  /// entitlement (every vCPU when not given), the cap and the uncapped weight.
  package var poolClaims: [PoolClaim] {
    let names = roleHosts.map(\.name)
    return hosts.compactMap { host in
      guard names.contains(host.name), case .qemu(let qemu) = host.transport else { return nil }
      return PoolClaim(
        guest: host.name, entitled: host.entitlement ?? Double(qemu.vcpus), capped: qemu.capped,
        uncappedWeight: host.effectiveUncappedWeight)
    }
  }

  /// How many host CPUs the pool shares: `pool.host_cpus` when it lists them, else
  /// `onlineCPUs` (the host's online CPUs, for `all`).
  package func poolCPUCount(onlineCPUs: Int) -> Int {
    if case .list(let cpus) = pool?.hostCPUs ?? .all { return cpus.count }
    return onlineCPUs
  }

  /// The swept keys that change a guest's pool claim (its entitlement, cap or uncapped
  /// weight), and with it every guest's dispatch quota.
  package var sweptPoolClaimKeys: [String] {
    sweep.map(\.keyPath).filter(PoolClaim.isClaimKey)
  }

  /// What each qemu guest boots with (shape, kernel, command line, pool weight), by host
  /// name: two sweep points with different keys need the guests rebooted between them.
  package var guestBootKey: String {
    hosts.compactMap { host -> String? in
      guard case .qemu(let qemu) = host.transport else { return nil }
      // The uncapped weight only changes cgroup files, but `configurePool` reapplies the
      // model and window alone, so a sweep over the weight boots again.
      return "\(host.name)=\(qemu.bootKey)|entitled \(host.entitlement.map { "\($0)" } ?? "-")"
        + "|weight \(host.effectiveUncappedWeight)"
    }.joined(separator: ";")
  }

  /// Every host that takes part, with its role, in the order a run connects them: the
  /// measure host, the noise hosts, then the hosts only a mode folds (role `fold`).
  package var roleHosts: [(name: String, role: String)] {
    var result = [(name: measure.host, role: "measure")]
    func add(_ name: String, _ role: String) {
      if !result.contains(where: { $0.name == name }) { result.append((name, role)) }
    }
    for name in noise?.hosts ?? [] { add(name, "noise") }
    for mode in modes { for name in foldHosts(of: mode) { add(name, "fold") } }
    return result
  }

  /// The hosts `mode` folds: its `hosts:`, else the measure host; none for out-of-box.
  package func foldHosts(of mode: ModeSpec) -> [String] {
    mode.kind == .outOfBox ? [] : mode.hosts ?? [measure.host]
  }

  /// Whether any host is a local qemu guest (the pool applies only to them).
  package var hasGuests: Bool {
    hosts.contains { if case .qemu = $0.transport { true } else { false } }
  }
}

package struct HostSpec: Sendable, Codable, Equatable {
  package var name: String
  package var transport: HostTransport
  /// Cores the host is guaranteed (PowerVM entitlement; cgroup weight for qemu guests),
  /// rounded up to whole cores when the file gives a fraction: the cores folding keeps.
  package var entitled: Int?
  /// The entitlement as the file gives it when it is a fraction (PowerVM processing units,
  /// e.g. 0.5); nil for whole cores. A qemu guest's pool weight follows it.
  package var entitledUnits: Double?
  /// PowerVM's uncapped weight, 0-255 (`uncapped_weight`): a qemu guest's share of the
  /// pool capacity no entitlement claims under `pool.model: dispatch`; nil for 128.
  package var uncappedWeight: Int?

  /// The uncapped weight given, else PowerVM's default 128.
  package var effectiveUncappedWeight: Int { uncappedWeight ?? 128 }

  /// Processing units the host is guaranteed: the fraction given, else the whole cores.
  package var entitlement: Double? { entitledUnits ?? entitled.map(Double.init) }
}

package enum HostTransport: Sendable, Codable, Equatable {
  /// This machine through a local agent; `root` points the agent at another sysfs/procfs
  /// tree (a fake kernel tree in tests), nil for the real one.
  case local(root: String?)
  case ssh(SSHHostSpec)
  case qemu(QEMUHostSpec)

  package var kind: String {
    switch self {
    case .local: "local"
    case .ssh: "ssh"
    case .qemu: "qemu"
    }
  }
}

package struct SSHHostSpec: Sendable, Codable, Equatable {
  /// A host name or an alias from the user's ssh config.
  package var host: String
  package var user: String?
  package var port: Int?
  /// A pvbench already on the remote (`pvbench: PATH`), used instead of copying this one:
  /// for a remote of another architecture (a ppc64le LPAR) or one without a writable home.
  package var pvbench: String?
}

package struct QEMUHostSpec: Sendable, Codable, Equatable {
  package var vcpus: Int
  /// SMT threads per core the guest sees (`-smp threads=`).
  package var threadsPerCore: Int
  package var memory: ByteSize
  /// `auto` (newest /boot/vmlinuz-*) or a path to a kernel image.
  package var kernel: String
  /// Limit the guest to its entitlement with a CPU bandwidth cap.
  package var capped: Bool
  /// Words appended to the guest kernel's command line (`append:`); nil for none.
  package var append: String?
  /// The machine the guest emulates (`arch:`): x86_64 (q35) or ppc64le (pseries, TCG).
  package var architecture: GuestArchitecture = .x86_64

  /// What a guest boots with: a sweep point that changes it needs a reboot.
  package var bootKey: String {
    let key = "\(vcpus)x\(threadsPerCore)|\(memory.bytes)|\(capped)|\(kernel)|\(append ?? "")"
    return architecture == .x86_64 ? key : key + "|\(architecture.rawValue)"
  }
}

extension QEMUHostSpec {
  private enum CodingKeys: String, CodingKey {
    case vcpus, threadsPerCore, memory, kernel, capped, append, architecture
  }

  /// A resolved experiment stored before `arch:` existed ran x86_64 guests.
  package init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    vcpus = try container.decode(Int.self, forKey: .vcpus)
    threadsPerCore = try container.decode(Int.self, forKey: .threadsPerCore)
    memory = try container.decode(ByteSize.self, forKey: .memory)
    kernel = try container.decode(String.self, forKey: .kernel)
    capped = try container.decode(Bool.self, forKey: .capped)
    append = try container.decodeIfPresent(String.self, forKey: .append)
    architecture =
      try container.decodeIfPresent(GuestArchitecture.self, forKey: .architecture) ?? .x86_64
  }
}

package struct PoolSpec: Sendable, Codable, Equatable {
  /// Host CPUs every qemu guest shares.
  package var hostCPUs: CPUSelection
  /// How the pool dispatches the guests' vCPUs.
  package var model: PoolModel
  /// `dispatch`: the window in which each guest gets its entitlement (`pool.window`).
  package var window: DurationValue

  /// PowerVM's dispatch window.
  package static let defaultWindow = DurationValue(nanoseconds: 10_000_000)
  /// The shortest and longest window the kernel's CFS period accepts.
  package static let windowRange =
    DurationValue(nanoseconds: 1_000_000)...DurationValue(nanoseconds: 1_000_000_000)

  package init(
    hostCPUs: CPUSelection, model: PoolModel = .standard, window: DurationValue = defaultWindow
  ) {
    self.hostCPUs = hostCPUs
    self.model = model
    self.window = window
  }

  private enum CodingKeys: String, CodingKey { case hostCPUs, model, window }

  /// A resolved experiment stored before `model` existed ran every guest with one weight;
  /// one stored before `window` existed had no window to name.
  package init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    hostCPUs = try container.decode(CPUSelection.self, forKey: .hostCPUs)
    model = try container.decodeIfPresent(PoolModel.self, forKey: .model) ?? .fair
    window =
      try container.decodeIfPresent(DurationValue.self, forKey: .window) ?? Self.defaultWindow
  }
}

package struct MeasureSpec: Sendable, Codable, Equatable {
  package var host: String
  package var schbench: SchbenchSpec
}

/// schbench parameters, named after schbench's long options.
package struct SchbenchSpec: Sendable, Codable, Equatable {
  package var messageThreads: Int
  /// Workers per message thread; nil means one per CPU of the host, as schbench does.
  package var workers: Int?
  package var runtime: DurationValue
  package var warmup: DurationValue
  /// Histogram interval streamed to the controller and tagged by phase.
  package var interval: DurationValue
  package var sleep: DurationValue
  package var operations: Int
  package var cacheFootprint: ByteSize
  package var locking: Bool
  /// Fixed request rate (`-R`); nil for schbench's default closed loop.
  package var requestsPerSecond: Int?
  package var messageCPUs: CPUSet?
  package var workerCPUs: CPUSet?
}

package struct NoiseSpec: Sendable, Codable, Equatable {
  /// The host whose busy/idle edges drive the trigger and the phase tags.
  package var host: String
  package var stress: StressSpec
  /// More hosts running the same stress cycle, started with `host` (`host: [a, b, …]`);
  /// nil for one noise host.
  package var otherHosts: [String]?

  /// Every noise host, the one whose edges count first.
  package var hosts: [String] { [host] + (otherHosts ?? []) }
}

package enum WorkerCount: Sendable, Codable, Equatable, CustomStringConvertible {
  case all
  case count(Int)

  package var description: String {
    switch self {
    case .all: "all"
    case .count(let n): "\(n)"
    }
  }
}

package struct StressSpec: Sendable, Codable, Equatable {
  package var busy: DurationValue
  package var idle: DurationValue
  package var workers: WorkerCount
  package var engine: StressEngine
}

package struct ModeSpec: Sendable, Codable, Equatable {
  /// Unique within the experiment: the kind, or `kind-N` when a kind repeats.
  package var id: String
  package var kind: ModeKind
  package var label: String
  /// The CPUs the mode avoids (hotplug, paravirt, cpuset).
  package var cpus: CPUSelection?
  package var paravirtInterface: ParavirtInterface?
  /// preferred and governor: the steal_governor driver's `interval_ms`, `high_threshold`
  /// and `low_threshold`, as the file writes them (whole ms, whole hundredths of a %).
  package var interval: DurationValue?
  package var high: Percentage?
  package var low: Percentage?
  /// governor: the rules it decides by, and the mode it acts through.
  package var governorPolicy: GovernorPolicyKind?
  package var governorAction: GovernorAction?
  /// The hosts the mode folds (`hosts:`), for the cooperative-mix experiments; nil for the
  /// measure host alone.
  package var hosts: [String]?
}

package enum Trigger: String, Sendable, Codable, CaseIterable {
  /// Apply the mode at each busy edge of the noise host and undo it at each idle edge.
  case followNoise = "follow-noise"
  /// Hold the mode for the whole cell.
  case `static`
}

/// One swept key: a dotted key path and its values (or the same values as another key).
package struct SweepAxis: Sendable, Codable, Equatable {
  package var keyPath: String
  package var values: [String]
  /// `same-as-busy`: this key takes the value of the named sibling key at every point.
  package var sameAs: String?
}

package struct ExpectSpec: Sendable, Codable, Equatable {
  package var table: String
  package var tolerance: Percentage
  /// Published wakeup latency (µs) by mode id, then percentile key (`"99.0"`).
  package var wakeupMicroseconds: [String: [String: Double]]
}

package struct ReportSpec: Sendable, Codable, Equatable {
  package var percentiles: [Double]
  /// The intervals the tables and `expect:` verdicts use; written `busy`, `idle` or `all`.
  package var phase: PhaseSelection
}

extension ModeSpec {
  /// `interval`, `high` and `low` in the steal_governor driver's units (the decoder has
  /// checked that they are whole and within its ranges); the driver's defaults where absent.
  /// - Throws: the driver's refusal, for a mode built without the decoder's checks.
  package func stealGovernorParameters() throws(StealGovernorParameterError)
    -> StealGovernorParameters
  {
    let defaults = StealGovernorParameters.driverDefaults
    let interval = interval.map { Int(clamping: $0.nanoseconds / 1_000_000) }
    let high = high.map { Int(($0.percent * 100).rounded()) }
    let low = low.map { Int(($0.percent * 100).rounded()) }
    return try StealGovernorParameters(
      intervalMilliseconds: interval ?? defaults.intervalMilliseconds,
      highThreshold: high ?? defaults.highThreshold,
      lowThreshold: low ?? defaults.lowThreshold)
  }
}
