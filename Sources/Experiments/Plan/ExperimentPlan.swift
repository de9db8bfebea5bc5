import LinuxHost
import Vocabulary
import Workloads

/// One measurement of one mode at one sweep point and repetition.
package struct Cell: Sendable, Equatable, Codable {
  /// Stable across runs of the same experiment: a hash of the normalised mode, point and
  /// repetition, so `--resume` finds the same cell again.
  package var id: String
  package var modeID: String
  package var modeLabel: String
  package var point: [PointValue]
  /// 1-based.
  package var repetition: Int
  package var estimatedSeconds: Double
  /// Index into the plan's sweep points.
  package var pointIndex: Int

  package struct PointValue: Sendable, Equatable, Codable {
    package var key: String
    package var value: String
  }

  /// Memberwise.
  package init(
    id: String,
    modeID: String,
    modeLabel: String,
    point: [PointValue],
    repetition: Int,
    estimatedSeconds: Double,
    pointIndex: Int
  ) {
    self.id = id
    self.modeID = modeID
    self.modeLabel = modeLabel
    self.point = point
    self.repetition = repetition
    self.estimatedSeconds = estimatedSeconds
    self.pointIndex = pointIndex
  }
}

/// A change pvbench makes on a host, for the plan's "knobs" list.
package struct Knob: Sendable, Equatable, Codable {
  package var host: String
  package var role: String
  package var mode: String
  package var change: String
  package var when: String
}

/// What a run of an experiment will do: its cells in run order, their estimated time,
/// and the knobs each mode turns.
package struct ExperimentPlan: Sendable {
  package var loaded: LoadedExperiment
  package var cells: [Cell]
  package var setupSeconds: Double
  package var knobs: [Knob]
  /// Of the experiment as planned (`hash(of:)`); kept when the plan moves to a testbed.
  package var experimentHash: String

  package var experiment: Experiment { loaded.experiment }
  package var totalSeconds: Double { setupSeconds + cells.reduce(0) { $0 + $1.estimatedSeconds } }

  /// Seconds each cell spends outside the workload: restoring and verifying the
  /// baseline, estimating clock offsets, the barrier, and stopping.
  package static let cellOverheadSeconds = 3.0
  /// Time to bring a host up before the first cell: a TCG guest boot, an ssh connection.
  package static func setupSeconds(for host: HostSpec) -> Double {
    switch host.transport {
    case .qemu: 15
    case .ssh: 3
    case .local: 0.5
    }
  }

  /// Expands modes × sweep points × repetitions, in the order a run measures them:
  /// for each point and repetition, every mode in turn, so drift over a long run
  /// spreads evenly over the modes.
  ///
  /// When the sweep changes what qemu guests boot (`hosts.NAME.qemu.kernel`, `.append`,
  /// `.vcpus` and the guest's other keys),
  /// each repetition runs every point instead, the points of one boot configuration
  /// together, and the configurations' order reverses every repetition (A B, B A, A B …):
  /// the kernels are interleaved within a repetition at the cost of one reboot per
  /// configuration change.
  package init(_ loaded: LoadedExperiment) {
    self.loaded = loaded
    var cells: [Cell] = []
    func add(_ pointIndex: Int, repetition: Int) {
      let point = loaded.points[pointIndex]
      let experiment = point.experiment
      let schbench = experiment.measure.schbench
      let seconds = schbench.runtime.seconds + schbench.warmup.seconds + Self.cellOverheadSeconds
      for mode in experiment.modes {
        let values = point.values.map { Cell.PointValue(key: $0.key, value: $0.value) }
        cells.append(
          Cell(
            id: Self.cellID(mode: mode, point: values, repetition: repetition),
            modeID: mode.id, modeLabel: mode.label, point: values, repetition: repetition,
            estimatedSeconds: seconds, pointIndex: pointIndex))
      }
    }
    let groups = Self.bootGroups(loaded.points)
    let repetitions = loaded.experiment.repetitions
    if groups.count > 1 {
      for repetition in 1...repetitions {
        let ordered = repetition % 2 == 1 ? groups : groups.reversed()
        for group in ordered {
          for pointIndex in group { add(pointIndex, repetition: repetition) }
        }
      }
    } else {
      for pointIndex in loaded.points.indices {
        for repetition in 1...repetitions { add(pointIndex, repetition: repetition) }
      }
    }
    self.cells = cells
    let roleHosts = loaded.experiment.roleHosts.map(\.name)
    // qemu guests boot together; other hosts connect one after another.
    let hosts = loaded.experiment.hosts.filter { roleHosts.contains($0.name) }
    let guestBoot = hosts.map(Self.setupSeconds).filter { $0 >= 15 }.max() ?? 0
    knobs = Self.knobs(of: loaded.experiment)
    experimentHash = Self.hash(of: loaded.experiment)
    setupSeconds = 0
    let boots = guestBoots
    let bootKeys = loaded.experiment.sweep.map(\.keyPath).filter { $0.hasPrefix("hosts.") }
    if boots > 1 {
      knobs.append(
        Knob(
          host: "qemu guests", role: "all", mode: "boot",
          change: "shut down and booted again when \(bootKeys.joined(separator: " or ")) "
            + "changes",
          when: "\(boots) boots in this order"))
    }
    setupSeconds =
      guestBoot * Double(max(1, guestBoots))
      + hosts.map(Self.setupSeconds).filter { $0 < 15 }.reduce(0, +)
  }

  /// Sweep point indices grouped by what the qemu guests boot, groups in order of first
  /// appearance.
  package static func bootGroups(_ points: [SweepPoint]) -> [[Int]] {
    var keys: [String] = []
    var groups: [[Int]] = []
    for (index, point) in points.enumerated() {
      let key = point.experiment.guestBootKey
      if let existing = keys.firstIndex(of: key) {
        groups[existing].append(index)
      } else {
        keys.append(key)
        groups.append([index])
      }
    }
    return groups
  }

  /// Guest boots the cells need in this order: one at the start, one more at every change.
  package var guestBoots: Int {
    guard experiment.hasGuests else { return 0 }
    var boots = 0
    var current: String?
    for cell in cells {
      let key = loaded.points[cell.pointIndex].experiment.guestBootKey
      if key != current { boots += 1 }
      current = key
    }
    return boots
  }

  package static func cellID(mode: ModeSpec, point: [Cell.PointValue], repetition: Int) -> String {
    var text = "mode=\(mode.canonicalDescription)"
    for value in point.sorted(by: { $0.key < $1.key }) { text += "|\(value.key)=\(value.value)" }
    text += "|rep=\(repetition)"
    // FNV-1a, 64 bits: stable across processes and platforms, unlike Hasher.
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    // A splitmix64 finaliser spreads small differences (repetition 1 vs 2) over every digit.
    hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
    hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
    hash ^= hash >> 31
    let hex = String(hash >> 16, radix: 16)
    return "c" + String(repeating: "0", count: 12 - hex.count) + hex
  }

  // MARK: Knobs

  package static func knobs(of experiment: Experiment) -> [Knob] {
    var knobs: [Knob] = []
    let measure = experiment.measure.host
    let host = experiment.host(named: measure)
    let when: String
    switch experiment.trigger {
    case .followNoise:
      let noise = experiment.noise?.host ?? "the noise host"
      when = "applied at each busy edge of \(noise), undone at each idle edge"
    case .static:
      when = "held for the whole cell"
    }
    for mode in experiment.modes {
      let cpus = mode.cpus.map { describe($0, on: host) } ?? ""
      let cpuWord = cpus.prefix { $0 != " " }.contains { $0 == "," || $0 == "-" } ? "CPUs" : "CPU"
      let change: String
      var modeWhen = when
      switch mode.kind {
      case .outOfBox:
        change = "nothing changes"
        modeWhen = "baseline"
      case .hotplug:
        change = "\(cpuWord) \(cpus) offline through /sys/devices/system/cpu/cpuN/online"
      case .paravirt:
        let file =
          mode.paravirtInterface == .powerpcDebugfs
          ? "/sys/kernel/debug/powerpc/vp_manual_hint"
          : "/sys/devices/system/cpu/paravirt"
        change = "\(cpuWord) \(cpus) marked paravirt through \(file)"
      case .preferred:
        change =
          "steal_governor module loaded (interval_ms=\(Int(mode.interval!.seconds * 1000)), "
          + "high_threshold=\(Int(mode.high!.percent * 100)), "
          + "low_threshold=\(Int(mode.low!.percent * 100))); "
          + "/sys/devices/system/cpu/preferred read back"
        modeWhen = "the kernel decides; loaded for the whole cell"
      case .cpuset:
        change = "every movable task moved into a cpuset without \(cpuWord) \(cpus)"
      case .governor:
        change =
          "pvbench's governor, the steal_governor driver's rules: steal above "
          + "\(mode.high!) folds the last preferred core, at or below \(mode.low!) "
          + "unfolds the first, every \(mode.interval!), through "
          + "\(mode.governorAction!.rawValue), keeping the first housekeeping core"
        modeWhen = "the governor decides; running for the whole cell"
      }
      let folded = experiment.foldHosts(of: mode)
      let roles = experiment.roleHosts
      for name in folded.isEmpty ? [measure] : folded {
        let role = roles.first { $0.name == name }?.role ?? "measure"
        knobs.append(
          Knob(host: name, role: role, mode: mode.label, change: change, when: modeWhen))
      }
    }
    let schbench = experiment.measure.schbench
    let workers =
      schbench.workers.map { "\($0) workers" }
      ?? "workers resolved on \(measure) at run time (its online CPUs ÷ \(schbench.messageThreads), "
      + "rounded up)"
    knobs.append(
      Knob(
        host: measure, role: "measure", mode: "schbench",
        change: "\(schbench.messageThreads) message threads × \(workers)",
        when: "in every cell"))
    for name in experiment.noise?.hosts ?? [] {
      let stress = experiment.noise!.stress
      knobs.append(
        Knob(
          host: name, role: "noise", mode: "stress",
          change:
            "\(stress.workers == .all ? "one CPU burner per CPU" : "\(stress.workers) CPU burners") "
            + "(\(stress.engine.rawValue)), busy \(stress.busy) / "
            + "idle \(stress.idle)",
          when: "in every cell"))
    }
    knobs += poolKnobs(of: experiment)
    return knobs
  }

  /// What the host pool does to each qemu guest taking part, under the experiment's model.
  /// - Parameters:
  ///   - experiment: the experiment.
  ///   - onlineCPUs: the host CPUs a pool of `host_cpus: all` shares (this machine's online
  ///     CPUs, which a run's pool takes too).
  package static func poolKnobs(
    of experiment: Experiment, onlineCPUs: Int = HostPaths().onlineCPUs().count
  ) -> [Knob] {
    var knobs: [Knob] = []
    let poolCPUs = experiment.poolCPUCount(onlineCPUs: onlineCPUs)
    let claims = experiment.poolClaims
    let shares = PoolClaim.dispatchCPUs(claims, poolCPUs: poolCPUs)
    let unclaimed = PoolClaim.unclaimedCPUs(claims, poolCPUs: poolCPUs)
    let swept = experiment.sweptPoolClaimKeys
    for (name, role) in experiment.roleHosts {
      guard let host = experiment.host(named: name), case .qemu(let qemu) = host.transport
      else { continue }
      let entitledCores = host.entitled ?? qemu.vcpus / qemu.threadsPerCore
      let entitledVCPUs = min(qemu.vcpus, entitledCores * qemu.threadsPerCore)
      let weight =
        host.entitledUnits.map { "a host cgroup weight for \($0) entitled cores" }
        ?? "a host cgroup weight for \(entitledCores) entitled core"
        + (entitledCores == 1 ? "" : "s")
      let change: String
      switch experiment.poolModel {
      case .dispatch:
        let claim = claims.first { $0.guest == name }
        let entitled = PoolClaim.figure(claim?.entitled ?? 0)
        let share = (shares[name] ?? 0) - (claim?.entitled ?? 0)
        let why: String
        if qemu.capped {
          why = "entitled \(entitled), capped"
        } else if unclaimed == 0 {
          why =
            "entitled \(entitled); uncapped weight \(host.effectiveUncappedWeight), but no "
            + "pool capacity is unclaimed"
        } else {
          why =
            "entitled \(entitled) plus \(PoolClaim.figure(share)) of the \(PoolClaim.figure(unclaimed)) "
            + "CPU\(unclaimed == 1 ? "" : "s") no entitlement claims, by uncapped weight "
            + "\(host.effectiveUncappedWeight)"
        }
        change =
          "its \(qemu.vcpus) vCPU threads share \(PoolClaim.figure(shares[name] ?? 0)) x "
          + "\(experiment.poolWindow) of CPU time per \(experiment.poolWindow) window (CFS "
          + "quota: \(why)"
          + (swept.isEmpty
            ? ")" : "; the file's values: \(swept.joined(separator: ", ")) changes it per point)")
          + "; QEMU's other threads outside the quota"
      case .fair:
        change = "\(weight), shared equally by its \(qemu.vcpus) vCPUs"
      case .entitled where entitledVCPUs < qemu.vcpus:
        let spare = CPUSet(entitledVCPUs..<qemu.vcpus)
        change =
          "\(weight) for vCPU\(entitledVCPUs == 1 ? "" : "s") \(CPUSet(0..<entitledVCPUs)); "
          + "vCPU\(spare.count == 1 ? "" : "s") \(spare) in a child cgroup of the "
          + "smallest weight (spare cycles only)"
      case .entitled:
        change = "\(weight); every vCPU is entitled"
      }
      knobs.append(
        Knob(
          host: name, role: role, mode: "pool \(experiment.poolModel.rawValue)",
          change: change, when: "for the whole run"))
    }
    return knobs
  }

  /// The CPUs a selection names on a host, where the experiment file alone tells.
  package static func describe(_ selection: CPUSelection, on host: HostSpec?) -> String {
    switch selection {
    case .list:
      return selection.description
    case .all:
      return "all"
    case .nonEntitled:
      guard let host, let entitled = host.entitled else { return "non-entitled" }
      if case .qemu(let qemu) = host.transport {
        let first = entitled * qemu.threadsPerCore
        return "\(CPUSet(first..<qemu.vcpus)) (non-entitled cores)"
      }
      return "beyond the first \(entitled) cores (non-entitled, from the topology)"
    }
  }
}

extension ModeSpec {
  /// Every option that changes what the mode does, in a fixed order: part of the cell id.
  package var canonicalDescription: String {
    var parts = [kind.rawValue]
    if let cpus { parts.append("cpus=\(cpus)") }
    if let paravirtInterface { parts.append("interface=\(paravirtInterface.rawValue)") }
    if let interval { parts.append("interval=\(interval)") }
    if let high { parts.append("high=\(high)") }
    if let low { parts.append("low=\(low)") }
    if let governorPolicy { parts.append("policy=\(governorPolicy.rawValue)") }
    if let governorAction { parts.append("apply=\(governorAction.rawValue)") }
    if id != kind.rawValue { parts.append("id=\(id)") }
    return parts.joined(separator: " ")
  }
}
