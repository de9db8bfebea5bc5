import LinuxHost
import Vocabulary

/// One reading of the governor's input, taken where `steal_governor_loop` reads its own.
package struct StealReading: Sendable, Equatable {
  /// Cumulative steal, ns, summed over every possible CPU (the driver's
  /// `kcpustat_field_total(CPUTIME_STEAL, cpu_possible_mask)`).
  package var stealNanoseconds: UInt64
  /// When it was read, monotonic ns (the driver's `ktime_get`).
  package var timeNanoseconds: UInt64
  /// The CPUs the preferred set must stay within: the driver's `cpu_active_mask`, and the
  /// CPUs an unfold draws from.
  package var active: CPUSet
  /// CPUs active when the reading was taken (`num_active_cpus()`): the ratio's denominator.
  /// Equal to `active.count` except when the governor acts through hotplug, where the cores
  /// it took offline stay in `active` (so they can come back) but are no longer counted.
  package var activeCount: Int

  /// A reading; `activeCount` defaults to the size of `active`.
  package init(
    stealNanoseconds: UInt64, timeNanoseconds: UInt64, active: CPUSet, activeCount: Int? = nil
  ) {
    self.stealNanoseconds = stealNanoseconds
    self.timeNanoseconds = timeNanoseconds
    self.active = active
    self.activeCount = activeCount ?? active.count
  }
}

/// What the governor holds between two runs of its loop (the driver's `sg_ctx` and
/// `cpu_preferred_mask`).
package struct GovernorState: Sendable, Equatable {
  /// The preferred CPUs: the CPUs the mode the governor acts through leaves usable.
  package var preferred: CPUSet
  /// Steal and time of the last reading that was not skipped.
  package var lastStealNanoseconds: UInt64
  package var lastTimeNanoseconds: UInt64
  /// Set when the preferred set was found invalid: the loop never runs again.
  package var stopped: Bool

  /// Memberwise.
  package init(
    preferred: CPUSet, lastStealNanoseconds: UInt64, lastTimeNanoseconds: UInt64,
    stopped: Bool
  ) {
    self.preferred = preferred
    self.lastStealNanoseconds = lastStealNanoseconds
    self.lastTimeNanoseconds = lastTimeNanoseconds
    self.stopped = stopped
  }
}

/// One run of the governor's loop: what it measured and what it did.
package struct GovernorDecision: Sendable, Equatable {
  package enum Action: String, Sendable, Equatable {
    /// Under 1 ms since the last reading: nothing measured, nothing stored, no check.
    case skip
    /// The ratio was above `high_threshold` (`decrease_preferred_cpus`).
    case fold
    /// The ratio was at or below `low_threshold` (`increase_preferred_cpus`).
    case unfold
    /// The ratio was between the thresholds.
    case hold
  }

  package var action: Action
  /// The CPUs that left the preferred set (fold) or came back (unfold); empty when the step
  /// found nothing to move (only the first housekeeping core left, or every active CPU
  /// already preferred).
  package var moved: CPUSet
  /// Steal ratio in hundredths of a percent; nil for a skip.
  package var ratio: UInt64?
  /// Steal since the last reading, ns (0 when the counter went backwards, as in the driver).
  package var deltaStealNanoseconds: UInt64
  /// Time since the last reading, ns.
  package var deltaTimeNanoseconds: UInt64
  /// CPUs counted in the ratio's denominator.
  package var activeCount: Int
  /// The preferred set after the step (after the restore, when it stopped).
  package var preferred: CPUSet
  /// The preferred set after the step was empty or not within `active`: preferred was
  /// restored to active and the governor stops for good (`preferred_cpus_valid`).
  package var stopped: Bool
}

/// The decision rules of the merged `steal_governor` driver, step for step.
///
/// Read from `drivers/virt/steal_governor.c` in tip (function names cited, no code
/// copied): `steal_governor_loop` runs every `interval_ms`; a run under 1 ms after the last
/// one is skipped without storing anything; otherwise
/// `ratio = Δsteal ÷ max(Δtime × active ÷ 10000, 1)` in integer arithmetic (hundredths of
/// a percent), with steal summed over all possible CPUs and `active` counted now. Above
/// `high_threshold`, `decrease_preferred_cpus` takes one core away; at or below
/// `low_threshold`, `increase_preferred_cpus` gives one back; then `preferred_cpus_valid`
/// (non-empty, within active) or preferred = active and the loop stops
/// (`restore_preferred_to_active`).
package struct GovernorPolicy: Sendable, Equatable {
  package var parameters: StealGovernorParameters
  /// Each CPU's SMT siblings, itself included (`topology_sibling_cpumask`); a CPU absent
  /// from every core is a core of its own.
  package var siblings: [Int: CPUSet]
  /// The housekeeping CPUs (`housekeeping_cpumask(HK_TYPE_KERNEL_NOISE)`): every CPU except
  /// those given to `nohz_full=`.
  package var housekeeping: CPUSet

  /// The samples closer than this to the last one are skipped (`NSEC_PER_MSEC`).
  package static let minimumGapNanoseconds: UInt64 = 1_000_000

  /// - Parameters:
  ///   - cores: the CPUs of each core (SMT siblings), as the host's facts list them.
  package init(parameters: StealGovernorParameters, cores: [[Int]], housekeeping: CPUSet) {
    self.parameters = parameters
    var siblings: [Int: CPUSet] = [:]
    for core in cores {
      let set = CPUSet(core)
      for cpu in core { siblings[cpu] = set }
    }
    self.siblings = siblings
    self.housekeeping = housekeeping
  }

  /// The state at load (`steal_governor_init`): the first reading stored, every active CPU
  /// preferred (without the driver, preferred equals active).
  package func start(_ reading: StealReading) -> GovernorState {
    GovernorState(
      preferred: reading.active, lastStealNanoseconds: reading.stealNanoseconds,
      lastTimeNanoseconds: reading.timeNanoseconds, stopped: false)
  }

  /// One run of the loop on `reading`; nil once the governor has stopped.
  package func step(_ state: inout GovernorState, _ reading: StealReading) -> GovernorDecision? {
    guard !state.stopped else { return nil }
    let elapsed =
      reading.timeNanoseconds > state.lastTimeNanoseconds
      ? reading.timeNanoseconds - state.lastTimeNanoseconds : 0
    let deltaSteal =
      reading.stealNanoseconds > state.lastStealNanoseconds
      ? reading.stealNanoseconds - state.lastStealNanoseconds : 0
    if elapsed < Self.minimumGapNanoseconds {
      return GovernorDecision(
        action: .skip, moved: CPUSet([Int]()), ratio: nil, deltaStealNanoseconds: deltaSteal,
        deltaTimeNanoseconds: elapsed, activeCount: reading.activeCount,
        preferred: state.preferred, stopped: false)
    }
    state.lastStealNanoseconds = reading.stealNanoseconds
    state.lastTimeNanoseconds = reading.timeNanoseconds
    let ratio = Self.ratio(
      deltaSteal: deltaSteal, deltaTime: elapsed, activeCount: reading.activeCount)
    let action: GovernorDecision.Action
    var moved = CPUSet([Int]())
    if ratio > UInt64(parameters.highThreshold) {
      action = .fold
      moved = decrease(preferred: state.preferred)
      state.preferred = state.preferred.subtracting(moved)
    } else if ratio <= UInt64(parameters.lowThreshold) {
      action = .unfold
      moved = increase(preferred: state.preferred, active: reading.active)
      state.preferred = CPUSet(state.preferred.cpus + moved.cpus)
    } else {
      action = .hold
    }
    // The check runs after every step, a hold included, so a set that a CPU going away
    // made invalid is caught.
    let valid = Self.isValid(preferred: state.preferred, active: reading.active)
    if !valid {
      // restore_preferred_to_active marks every active CPU preferred; it clears nothing.
      state.preferred = CPUSet(state.preferred.cpus + reading.active.cpus)
      state.stopped = true
    }
    return GovernorDecision(
      action: action, moved: moved, ratio: ratio, deltaStealNanoseconds: deltaSteal,
      deltaTimeNanoseconds: elapsed, activeCount: reading.activeCount,
      preferred: state.preferred, stopped: !valid)
  }

  /// The steal ratio in hundredths of a percent, in the driver's integer arithmetic: the
  /// denominator is divided by 10000 first (no overflow) and kept at least 1.
  package static func ratio(deltaSteal: UInt64, deltaTime: UInt64, activeCount: Int) -> UInt64 {
    // u64 arithmetic as in the driver: a product past 2^64 wraps rather than traps.
    let denominator = max(deltaTime &* UInt64(max(0, activeCount)) / 10_000, 1)
    return deltaSteal / denominator
  }

  /// The CPUs `decrease_preferred_cpus` takes out of `preferred`.
  ///
  /// The core of the first housekeeping CPU that is preferred always stays. The target is
  /// the last preferred CPU, or, when that one is in the kept core, the last preferred CPU
  /// outside it; every preferred sibling of the target leaves. Nothing when no housekeeping
  /// CPU is preferred or only the kept core remains.
  package func decrease(preferred: CPUSet) -> CPUSet {
    guard let firstHousekeeping = preferred.cpus.first(where: housekeeping.contains) else {
      return CPUSet([Int]())
    }
    let kept = core(of: firstHousekeeping)
    guard let target = preferred.cpus.last(where: { !kept.contains($0) }) else {
      return CPUSet([Int]())
    }
    return CPUSet(core(of: target).cpus.filter(preferred.contains))
  }

  /// The CPUs `increase_preferred_cpus` adds: the first active CPU that is not preferred,
  /// with its active siblings; nothing when every active CPU is preferred.
  package func increase(preferred: CPUSet, active: CPUSet) -> CPUSet {
    guard let first = active.cpus.first(where: { !preferred.contains($0) }) else {
      return CPUSet([Int]())
    }
    return CPUSet(core(of: first).cpus.filter(active.contains))
  }

  /// `preferred_cpus_valid`: not empty, and within the active CPUs.
  package static func isValid(preferred: CPUSet, active: CPUSet) -> Bool {
    !preferred.isEmpty && preferred.cpus.allSatisfy(active.contains)
  }

  /// The SMT siblings of `cpu`, itself included.
  package func core(of cpu: Int) -> CPUSet {
    siblings[cpu] ?? CPUSet([cpu])
  }
}
