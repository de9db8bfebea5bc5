import AgentTestDoubles
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Testing
import Vocabulary

/// Recorded steal series replayed through `GovernorPolicy`, each against decisions worked out
/// by hand from the `steal_governor` driver's rules (`drivers/virt/steal_governor.c`:
/// `steal_governor_loop`, `decrease_preferred_cpus`, `increase_preferred_cpus`,
/// `preferred_cpus_valid`). The ratio is Δsteal ÷ max(Δtime × active ÷ 10000, 1) in
/// integer hundredths of a percent; the defaults are high 500, low 200.
@Suite struct GovernorReplayTests {
  static let second: UInt64 = 1_000_000_000
  static let none = CPUSet([Int]())

  /// A policy with the driver's defaults unless told.
  static func policy(
    cores: [[Int]], housekeeping: CPUSet? = nil, high: Int = 500, low: Int = 200
  ) throws -> GovernorPolicy {
    let parameters = try StealGovernorParameters(
      intervalMilliseconds: 1000, highThreshold: high, lowThreshold: low)
    return GovernorPolicy(
      parameters: parameters, cores: cores,
      housekeeping: housekeeping ?? CPUSet(cores.flatMap { $0 }))
  }

  /// A reading of cumulative steal `steal` ns at `seconds` s.
  static func at(
    _ seconds: UInt64, steal: UInt64, active: CPUSet, count: Int? = nil
  ) -> StealReading {
    StealReading(
      stealNanoseconds: steal, timeNanoseconds: seconds * second, active: active,
      activeCount: count)
  }

  /// Replays `readings` after `first`: the action, the CPUs moved and the preferred set after
  /// each step.
  static func replay(
    _ policy: GovernorPolicy, from first: StealReading, _ readings: [StealReading]
  ) -> (decisions: [GovernorDecision], state: GovernorState) {
    var state = policy.start(first)
    var decisions: [GovernorDecision] = []
    for reading in readings {
      if let decision = policy.step(&state, reading) { decisions.append(decision) }
    }
    return (decisions, state)
  }

  /// Replays cumulative steal readings taken one a second from 0 s (`steals[0]` is the
  /// first), with every CPU of `active` active throughout.
  static func replay(
    _ policy: GovernorPolicy, active: CPUSet, steals: [UInt64]
  ) -> (decisions: [GovernorDecision], state: GovernorState) {
    let readings = steals.enumerated().map {
      at(UInt64($0.offset), steal: $0.element, active: active)
    }
    return replay(policy, from: readings[0], Array(readings.dropFirst()))
  }

  static func summary(_ decisions: [GovernorDecision]) -> [String] {
    decisions.map { "\($0.action.rawValue) \($0.moved) -> \($0.preferred)" }
  }

  /// 4 cores × 2 threads numbered as x86 numbers them (siblings 0,4 1,5 2,6 3,7), 8 active
  /// CPUs throughout (a cpuset or paravirt fold leaves them active), so every denominator is
  /// 1 s × 8 ÷ 10000 = 800 000.
  ///  1 s: Δsteal 480 000 000 → ratio 600 > 500: fold. Kept core: that of the first
  ///       housekeeping preferred CPU, 0 → {0,4}. Last preferred 7 is outside it: target 7,
  ///       its preferred siblings {3,7} leave → 0-2,4-6.
  ///  2 s: Δsteal 320 000 000 → 400: between 200 and 500, hold.
  ///  3 s: Δsteal 400 800 000 → 501 > 500: fold; last preferred 6 → {2,6} leave → 0-1,4-5.
  ///  4 s: Δsteal 0 → 0 <= 200: unfold; first active non-preferred 2 → {2,6} (both active)
  ///       return → 0-2,4-6.
  ///  5 s: Δsteal 80 000 000 → 100: unfold; first non-preferred 3 → {3,7} → 0-7.
  ///  6 s: Δsteal 0 → 0: unfold, but every active CPU is preferred: nothing moves.
  @Test func foldsTheLastCoreUnfoldsTheFirstAndHoldsBetween() throws {
    let policy = try Self.policy(cores: [[0, 4], [1, 5], [2, 6], [3, 7]])
    let all = CPUSet(0...7)
    let (decisions, state) = Self.replay(
      policy, active: all,
      steals: [
        0, 480_000_000, 800_000_000, 1_200_800_000, 1_200_800_000, 1_280_800_000, 1_280_800_000,
      ])
    #expect(decisions.map(\.ratio) == [600, 400, 501, 0, 100, 0])
    #expect(
      Self.summary(decisions) == [
        "fold 3,7 -> 0-2,4-6", "hold  -> 0-2,4-6", "fold 2,6 -> 0-1,4-5",
        "unfold 2,6 -> 0-2,4-6", "unfold 3,7 -> 0-7", "unfold  -> 0-7",
      ])
    #expect(decisions.allSatisfy { $0.activeCount == 8 && !$0.stopped })
    #expect(decisions.map(\.deltaTimeNanoseconds).allSatisfy { $0 == Self.second })
    #expect(
      state.lastStealNanoseconds == 1_280_800_000 && state.lastTimeNanoseconds == 6 * Self.second)
  }

  /// The comparisons are `ratio > high` and `ratio <= low`. Two cores × 2 threads
  /// ({0,1} {2,3}), 4 active: denominator 1 s × 4 ÷ 10000 = 400 000.
  ///  1 s: Δsteal 200 000 000 → exactly 500 = high: not above it, hold.
  ///  2 s: Δsteal 200 399 999 → 500 (integer division drops the remainder 399 999): hold.
  ///  3 s: Δsteal 200 400 000 → 501: fold {2,3} → 0-1.
  ///  4 s: Δsteal 80 000 000 → exactly 200 = low: unfold {2,3} → 0-3.
  ///  5 s: Δsteal 80 400 000 → 201: hold.
  @Test func equalityAtHighHoldsAndAtLowUnfolds() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3]])
    let all = CPUSet(0...3)
    let (decisions, _) = Self.replay(
      policy, active: all,
      steals: [0, 200_000_000, 400_399_999, 600_799_999, 680_799_999, 761_199_999])
    #expect(decisions.map(\.ratio) == [500, 500, 501, 200, 201])
    #expect(
      Self.summary(decisions) == [
        "hold  -> 0-3", "hold  -> 0-3", "fold 2-3 -> 0-1", "unfold 2-3 -> 0-3", "hold  -> 0-3",
      ])
  }

  /// Two cores × 2 threads, high steal every second (Δsteal 400 000 000 over 1 s × 4 CPUs:
  /// ratio 1000). 1 s: fold {2,3}. 2 s: the first housekeeping preferred CPU is 0, kept core
  /// {0,1}; the last preferred CPU 1 is in it and no preferred CPU lies outside it, so
  /// nothing moves: the governor holds at the housekeeping core however high the steal.
  @Test func foldingStopsAtTheFirstHousekeepingCore() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3]])
    let all = CPUSet(0...3)
    let (decisions, state) = Self.replay(
      policy, from: Self.at(0, steal: 0, active: all),
      (1...3).map { Self.at($0, steal: $0 * 400_000_000, active: all) })
    #expect(decisions.map(\.ratio) == [1000, 1000, 1000])
    #expect(
      Self.summary(decisions) == ["fold 2-3 -> 0-1", "fold  -> 0-1", "fold  -> 0-1"])
    #expect(!state.stopped)
  }

  /// The kept core is the first *housekeeping* CPU's, not CPU 0's: with `nohz_full=0-1`
  /// the housekeeping CPUs are 2-3 and the kept core is {2,3}. Ratio 1000 as above.
  ///  1 s: last preferred 3 is in the kept core, so the target is the last preferred CPU
  ///       outside it, 1: {0,1} leave → 2-3.
  ///  2 s: only the kept core is preferred: nothing moves.
  @Test func theKeptCoreIsTheFirstHousekeepingCPUs() throws {
    let cores = [[0, 1], [2, 3]]
    let housekeeping = GovernorPolicy.housekeeping(
      cmdline: "console=ttyS0 nohz_full=0-1 quiet", cpus: CPUSet(0...3))
    #expect(housekeeping == CPUSet(2...3))
    let policy = try Self.policy(cores: cores, housekeeping: housekeeping)
    let all = CPUSet(0...3)
    let (decisions, _) = Self.replay(
      policy, from: Self.at(0, steal: 0, active: all),
      (1...2).map { Self.at($0, steal: $0 * 400_000_000, active: all) })
    #expect(Self.summary(decisions) == ["fold 0-1 -> 2-3", "fold  -> 2-3"])
    // isolcpus only isolates from housekeeping noise with its `nohz` flag.
    #expect(
      GovernorPolicy.housekeeping(cmdline: "isolcpus=nohz,domain,3", cpus: CPUSet(0...3))
        == CPUSet(0...2))
    #expect(
      GovernorPolicy.housekeeping(cmdline: "isolcpus=domain,3", cpus: CPUSet(0...3))
        == CPUSet(0...3))
  }

  /// The ratio counts the CPUs active *at the sample*. Four cores × 2 threads
  /// ({0,1} {2,3} {4,5} {6,7}), replayed once acting through a cpuset (active stays 8) and
  /// once through hotplug (the folded CPUs go offline: active drops to 6, then 4; they stay
  /// in the set an unfold draws from).
  ///  1 s: Δsteal 480 000 000 / (1 s × 8 ÷ 10000 = 800 000) = 600: both fold {6,7}.
  ///  2 s: Δsteal 360 000 000. cpuset: / 800 000 = 450, hold.
  ///       hotplug: / (1 s × 6 ÷ 10000 = 600 000) = 600 > 500: fold {4,5}.
  ///  3 s: Δsteal 0: ratio 0, both unfold the first active non-preferred core:
  ///       cpuset {6,7} → 0-7; hotplug {4,5} → 0-5 (still 4 CPUs counted: 0 either way).
  @Test func theSameStealFoldsMoreOnceHotplugShrankTheActiveCount() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3], [4, 5], [6, 7]])
    let all = CPUSet(0...7)
    let cpuset = Self.replay(
      policy, active: all, steals: [0, 480_000_000, 840_000_000, 840_000_000])
    let hotplug = Self.replay(
      policy, from: Self.at(0, steal: 0, active: all),
      [
        Self.at(1, steal: 480_000_000, active: all),
        Self.at(2, steal: 840_000_000, active: all, count: 6),
        Self.at(3, steal: 840_000_000, active: all, count: 4),
      ])
    #expect(cpuset.decisions.map(\.ratio) == [600, 450, 0])
    #expect(hotplug.decisions.map(\.ratio) == [600, 600, 0])
    #expect(
      Self.summary(cpuset.decisions) == ["fold 6-7 -> 0-5", "hold  -> 0-5", "unfold 6-7 -> 0-7"])
    #expect(
      Self.summary(hotplug.decisions) == [
        "fold 6-7 -> 0-5", "fold 4-5 -> 0-3", "unfold 4-5 -> 0-5",
      ])
    #expect(hotplug.decisions.map(\.activeCount) == [8, 6, 4])
  }

  /// A reading under 1 ms after the last stored one is skipped: nothing measured, nothing
  /// stored, no validity check. Two cores × 2 threads, 4 active.
  ///  0.999999 ms: skip, though steal jumped and CPU 3 left `active` (no check ran).
  ///  1 s: Δsteal 400 000 000 − 0 over the full 1 s since 0 (the skipped reading was not
  ///       stored): / 400 000 = 1000, fold {2,3} → 0-1.
  ///  1 s + 1 ms exactly: not under 1 ms. Δsteal 200 over 1 000 000 ns × 4 ÷ 10000 = 400:
  ///       ratio 0, unfold {2,3}.
  @Test func aReadingUnderOneMillisecondIsSkippedWithoutStoringIt() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3]])
    let all = CPUSet(0...3)
    var state = policy.start(Self.at(0, steal: 0, active: all))
    let early = StealReading(
      stealNanoseconds: 900_000_000, timeNanoseconds: 999_999, active: CPUSet(0...2))
    let skipped = try #require(policy.step(&state, early))
    #expect(skipped.action == .skip && skipped.ratio == nil && !skipped.stopped)
    #expect(skipped.deltaTimeNanoseconds == 999_999)
    #expect(state == policy.start(Self.at(0, steal: 0, active: all)))
    let fold = try #require(policy.step(&state, Self.at(1, steal: 400_000_000, active: all)))
    #expect(fold.action == .fold && fold.ratio == 1000 && fold.moved == CPUSet(2...3))
    #expect(fold.deltaStealNanoseconds == 400_000_000 && fold.deltaTimeNanoseconds == Self.second)
    let exact = StealReading(
      stealNanoseconds: 400_000_200, timeNanoseconds: Self.second + 1_000_000, active: all)
    let unfold = try #require(policy.step(&state, exact))
    #expect(unfold.action == .unfold && unfold.ratio == 0 && unfold.preferred == all)
  }

  /// `preferred_cpus_valid` after every step that was not skipped: a preferred set not
  /// within active (CPU 3 went offline behind the governor's back) or an empty one
  /// restores preferred = active and stops the loop for good. Two cores × 2 threads.
  ///  1 s, active 0-2, 3 counted: Δsteal 1 050 000 000 / (1 s × 3 ÷ 10000 = 300 000) = 3500:
  ///       fold; kept core {0,1}; last preferred 3 → its preferred siblings {2,3} leave →
  ///       0-1, within 0-2: valid, the governor goes on.
  ///  Replayed again with Δsteal 90 000 000 instead: / 300 000 = 300, between the
  ///       thresholds: hold, and 0-3 is not within 0-2: invalid. The restore
  ///       marks every active CPU preferred and clears nothing (`restore_preferred_to_active`),
  ///       so preferred stays 0-3; stopped, and every later step returns nil.
  @Test func anInvalidSetRestoresActiveAndStopsForGood() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3]])
    let all = CPUSet(0...3)
    let shrunk = CPUSet(0...2)
    let foldFirst = Self.replay(
      policy, from: Self.at(0, steal: 0, active: all),
      [Self.at(1, steal: 1_050_000_000, active: shrunk)])
    #expect(foldFirst.decisions.map(\.ratio) == [3500])
    #expect(Self.summary(foldFirst.decisions) == ["fold 2-3 -> 0-1"])
    #expect(!foldFirst.state.stopped)

    var state = policy.start(Self.at(0, steal: 0, active: all))
    let hold = try #require(policy.step(&state, Self.at(1, steal: 90_000_000, active: shrunk)))
    #expect(hold.action == .hold && hold.ratio == 300)
    #expect(hold.stopped && state.stopped && hold.preferred == all)
    #expect(policy.step(&state, Self.at(2, steal: 90_000_000, active: shrunk)) == nil)

    // Empty: a preferred set with nothing in it (the kernel's mask cleared under the
    // governor). Ratio 0 unfolds the first active non-preferred core, {0,1} → 0-1, which is
    // valid: an unfold repairs it. Above high, the fold finds no preferred housekeeping CPU
    // and does nothing, the set stays empty: restored to active 0-3, stopped.
    var empty = GovernorState(
      preferred: Self.none, lastStealNanoseconds: 0, lastTimeNanoseconds: 0, stopped: false)
    let repaired = try #require(policy.step(&empty, Self.at(1, steal: 0, active: all)))
    #expect(repaired.action == .unfold && repaired.preferred == CPUSet(0...1) && !repaired.stopped)
    empty.preferred = Self.none
    let stopped = try #require(
      policy.step(&empty, Self.at(2, steal: 400_000_000, active: all)))
    #expect(stopped.action == .fold && stopped.moved == Self.none)
    #expect(stopped.stopped && stopped.preferred == all)
  }

  /// SMT8, as the cover letter's LPARs: 4 cores of 8 threads, 32 active CPUs; denominator
  /// 1 s × 32 ÷ 10000 = 3 200 000.
  ///  1 s: Δsteal 1 600 000 000 → 500: hold.
  ///  2 s: Δsteal 1 603 200 000 → 501: fold the last core, 24-31 → 0-23.
  ///  3, 4 s: same: fold 16-23, then 8-15 → 0-7.
  ///  5 s: same: only the kept core 0-7 is left, nothing moves.
  ///  6 s: Δsteal 640 000 000 → 200: unfold the first non-preferred core, 8-15 → 0-15.
  @Test func smt8FoldsAndUnfoldsEightThreadsAtATime() throws {
    let cores = (0..<4).map { core in Array(core * 8..<core * 8 + 8) }
    let policy = try Self.policy(cores: cores)
    let all = CPUSet(0...31)
    let deltas: [UInt64] = [
      1_600_000_000, 1_603_200_000, 1_603_200_000, 1_603_200_000, 1_603_200_000, 640_000_000,
    ]
    var steal: UInt64 = 0
    var readings: [StealReading] = []
    for (index, delta) in deltas.enumerated() {
      steal += delta
      readings.append(Self.at(UInt64(index) + 1, steal: steal, active: all))
    }
    let (decisions, _) = Self.replay(policy, from: Self.at(0, steal: 0, active: all), readings)
    #expect(decisions.map(\.ratio) == [500, 501, 501, 501, 501, 200])
    #expect(
      Self.summary(decisions) == [
        "hold  -> 0-31", "fold 24-31 -> 0-23", "fold 16-23 -> 0-15", "fold 8-15 -> 0-7",
        "fold  -> 0-7", "unfold 8-15 -> 0-15",
      ])
  }

  /// Only preferred siblings leave and only active siblings return. SMT8 as above.
  /// A fold with preferred 0-11 (core 8-15 half preferred) targets 11 and takes 8-11.
  /// An unfold with CPU 31 not active and 0-23 preferred brings 24-30 back, not 31.
  @Test func smt8MovesOnlyPreferredOrActiveSiblings() throws {
    let cores = (0..<4).map { core in Array(core * 8..<core * 8 + 8) }
    let policy = try Self.policy(cores: cores)
    #expect(policy.decrease(preferred: CPUSet(0...11)) == CPUSet(8...11))
    #expect(policy.increase(preferred: CPUSet(0...23), active: CPUSet(0...30)) == CPUSet(24...30))
    // With nothing left outside the kept core, and with no housekeeping CPU preferred.
    #expect(policy.decrease(preferred: CPUSet(0...7)) == Self.none)
    let isolated = try Self.policy(cores: cores, housekeeping: CPUSet(0...7))
    #expect(isolated.decrease(preferred: CPUSet(8...31)) == Self.none)
  }

  /// The integer arithmetic: the denominator is divided by 10000 before the steal, and
  /// kept at least 1 (Δtime × active under 10000 ns gives 1, the ratio is then Δsteal).
  @Test func theRatioIsTheDriversIntegerArithmetic() {
    #expect(
      GovernorPolicy.ratio(deltaSteal: 480_000_000, deltaTime: 1_000_000_000, activeCount: 8) == 600
    )
    // 1 s × 3 ÷ 10000 = 300 000; 1 000 000 / 300 000 = 3 (3.33 truncated).
    #expect(
      GovernorPolicy.ratio(deltaSteal: 1_000_000, deltaTime: 1_000_000_000, activeCount: 3) == 3)
    #expect(GovernorPolicy.ratio(deltaSteal: 7, deltaTime: 1_000, activeCount: 4) == 7)
    #expect(GovernorPolicy.ratio(deltaSteal: 7, deltaTime: 1_000_000_000, activeCount: 0) == 7)
  }

  /// A steal counter that went backwards gives Δsteal 0 (the driver's guard), ratio 0.
  @Test func aStealCounterGoingBackwardsCountsAsNoSteal() throws {
    let policy = try Self.policy(cores: [[0, 1], [2, 3]])
    let all = CPUSet(0...3)
    let (decisions, state) = Self.replay(
      policy, from: Self.at(0, steal: 500_000_000, active: all),
      [Self.at(1, steal: 100_000_000, active: all)])
    #expect(decisions.map(\.deltaStealNanoseconds) == [0])
    #expect(decisions.map(\.ratio) == [0])
    #expect(state.lastStealNanoseconds == 100_000_000)
  }
}

/// The driver's parameters and refusals (`param_set_interval_ms`,
/// `param_set_high_threshold`, `steal_governor_init`).
@Suite struct StealGovernorParameterTests {
  static func refusal(_ interval: Int, _ high: Int, _ low: Int) -> StealGovernorParameterError? {
    do {
      _ = try StealGovernorParameters(
        intervalMilliseconds: interval, highThreshold: high, lowThreshold: low)
      return nil
    } catch { return error }
  }

  @Test func theDriversRangesAndDefaults() {
    #expect(
      StealGovernorParameters.driverDefaults.moduleArguments
        == "interval_ms=1000 high_threshold=500 low_threshold=200")
    #expect(Self.refusal(100, 500, 200) == nil)
    #expect(Self.refusal(100_000, 9_999, 0) == nil)
    #expect(Self.refusal(99, 500, 200) == .interval(99))
    #expect(Self.refusal(100_001, 500, 200) == .interval(100_001))
    #expect(Self.refusal(1000, 10_000, 200) == .high(10_000))
    #expect(Self.refusal(1000, 500, 500) == .lowNotBelowHigh(low: 500, high: 500))
    #expect(Self.refusal(1000, 500, 501) == .lowNotBelowHigh(low: 501, high: 500))
    #expect(Self.refusal(1000, -1, 200) == .notUnsigned("high_threshold"))
    #expect(
      Self.refusal(99, 500, 200)?.description
        == "interval_ms 99 is outside the driver's range 100–100000")
    #expect(
      Self.refusal(1000, 500, 500)?.description
        == "low_threshold 500 is not below high_threshold 500")
  }
}

/// The governor's keys in an experiment file: the driver's parameters, mapped exactly and
/// refused where it refuses them, each error at its key.
@Suite struct GovernorKeysTests {
  static func errors(_ modeLine: String) -> [String] { decode(modeLine).errors }

  static func decode(_ modeLine: String) -> (modes: [ModeSpec], errors: [String]) {
    let text = """
      name: t
      hosts:
        vm1: { qemu: { vcpus: 4, memory: 256M }, entitled: 1 }
      measure:
        host: vm1
        schbench: { workers: 2, runtime: 10s }
      modes:
        \(modeLine)
      trigger: static

      """
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-governor-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("exp.yaml").path
    precondition(
      FileManager.default.createFile(atPath: path, contents: Data(text.utf8)),
      "cannot write \(path)")
    do {
      return (try ExperimentLoader.load(path: path) { _ in CPUSet(0...3) }.experiment.modes, [])
    } catch {
      return (
        [],
        error.diagnostics.map {
          var diagnostic = $0
          diagnostic.file = "exp.yaml"
          return diagnostic.description
        }
      )
    }
  }

  @Test func theDefaultsAreTheDriversAndThePolicyIsStealGovernor() throws {
    let mode = try #require(Self.decode("- governor").modes.first)
    #expect(mode.governorPolicy == .stealGovernor && mode.governorAction == .cpuset)
    #expect(try mode.stealGovernorParameters() == .driverDefaults)
    #expect(
      Self.errors("- governor: { policy: steal-governor, interval: 100ms, high: 99.99%, low: 0% }")
        == [])
  }

  /// Each mode line with the one error it must give, at its key's line and column.
  static let refusals: [(modeLine: String, error: String)] = [
    // Out of the driver's ranges (param_set_interval_ms, param_set_high_threshold,
    // steal_governor_init).
    (
      "- governor: { interval: 99ms }",
      "exp.yaml:8:27: error: modes[0].governor.interval: must be between 100ms and 100s "
        + "(the driver refuses interval_ms outside 100–100000), got '99ms'"
    ),
    (
      "- governor: { interval: 101s }",
      "exp.yaml:8:27: error: modes[0].governor.interval: must be between 100ms and 100s "
        + "(the driver refuses interval_ms outside 100–100000), got '101s'"
    ),
    (
      "- governor: { high: 100% }",
      "exp.yaml:8:23: error: modes[0].governor.high: must be below 100% (the driver refuses "
        + "high_threshold 10000 or above), got '100%'"
    ),
    (
      "- governor: { high: 5%, low: 5% }",
      "exp.yaml:8:32: error: modes[0].governor.low: 'low' (5%) must be below 'high' (5%): "
        + "the driver refuses to load with low_threshold 500 not below high_threshold 500"
    ),
    // Values the driver's unsigned integers cannot hold exactly.
    (
      "- governor: { interval: 1500us }",
      "exp.yaml:8:27: error: modes[0].governor.interval: the driver's interval_ms counts "
        + "whole milliseconds, got '1500us'"
    ),
    (
      "- governor: { low: 0.005% }",
      "exp.yaml:8:22: error: modes[0].governor.low: the driver's low_threshold counts "
        + "hundredths of a percent (0.01%), got '0.005%'"
    ),
    (
      "- governor: { policy: pvbench }",
      "exp.yaml:8:25: error: modes[0].governor.policy: expected one of 'steal-governor', "
        + "got 'pvbench'"
    ),
  ]

  @Test(arguments: refusals)
  func valuesTheDriverRefusesAreRefusedAtTheirKey(modeLine: String, error: String) {
    #expect(Self.errors(modeLine) == [error])
  }
}

/// The fake kernel loads `steal_governor` as the driver published in tip does.
@Suite struct FakeStealGovernorLoadTests {
  static func load(_ parameters: [(String, String)]) throws -> (Int32?, FakeHostTree) {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2, stealGovernorModule: true)
    let kernel = FakeKernelSysfsWriter(paths: tree.paths)
    do {
      try kernel.loadModule(StealGovernor.moduleName, parameters: parameters)
      return (nil, tree)
    } catch { return (error.errno, tree) }
  }

  static func errno(_ parameters: [(String, String)]) throws -> Int32? {
    let (code, tree) = try load(parameters)
    tree.remove()
    return code
  }

  @Test func theSettersAndTheLoadRefuseAsTheDriverDoes() throws {
    // param_set_interval_ms, param_set_high_threshold, steal_governor_init.
    #expect(try Self.errno([("interval_ms", "99")]) == EINVAL)
    #expect(try Self.errno([("interval_ms", "100001")]) == EINVAL)
    #expect(try Self.errno([("interval_ms", "100"), ("high_threshold", "9999")]) == nil)
    #expect(try Self.errno([("high_threshold", "10000")]) == EINVAL)
    #expect(try Self.errno([("low_threshold", "500")]) == EINVAL)
    #expect(try Self.errno([("high_threshold", "150")]) == EINVAL)
    // kstrtouint with base 0: hexadecimal and octal, a sign refused, 2^32 out of range.
    #expect(try Self.errno([("interval_ms", "0x3e8")]) == nil)
    #expect(try Self.errno([("interval_ms", "01750")]) == nil)
    #expect(try Self.errno([("interval_ms", "-1000")]) == EINVAL)
    #expect(try Self.errno([("low_threshold", "1e2")]) == EINVAL)
    #expect(try Self.errno([("low_threshold", "4294967296")]) == ERANGE)
    // In order: a refused value fails the load even when a later one would pass.
    #expect(try Self.errno([("interval_ms", "50"), ("interval_ms", "500")]) == EINVAL)
    // A parameter the module does not have is ignored.
    #expect(try Self.errno([("sampling", "5")]) == nil)
  }

  @Test func loadedTheParametersReadBackReadOnlyWithTheDefaults() throws {
    let (code, tree) = try Self.load([("high_threshold", "0x2bc")])
    defer { tree.remove() }
    #expect(code == nil)
    let directory = "/sys/module/steal_governor/parameters"
    #expect(tree.read("\(directory)/interval_ms") == "1000\n")
    #expect(tree.read("\(directory)/high_threshold") == "700\n")
    #expect(tree.read("\(directory)/low_threshold") == "200\n")
    #expect(!tree.paths.exists("\(directory)/sampling"))
    let attributes = try FileManager.default.attributesOfItem(
      atPath: tree.paths.resolve("\(directory)/low_threshold"))
    #expect((attributes[.posixPermissions] as? Int) == 0o444)
    #expect(tree.read(HostPaths.preferred) == "0-3\n")
  }
}

/// The governor's input, as the run's samples feed it.
@Suite struct GovernorFeedTests {
  /// Guest `/proc/stat`: the aggregate line's steal in USER_HZ ticks (10 ms), the online
  /// CPUs from the per-CPU lines. Host side: the vCPU threads' run-queue wait summed (a
  /// vanished thread counts nothing), with the guest's online CPUs.
  @Test func samplesBecomeReadingsInNanoseconds() {
    let feed = GovernorFeed(host: "vm1")
    #expect(feed.reading(.guestProcStat) == nil)
    let cpu = CPUTimes(user: 100, steal: 7)
    feed.observe(
      .cpuSample(
        monotonicNanoseconds: 5_000, total: CPUTimes(user: 300, steal: 21),
        perCPU: [0: cpu, 1: cpu, 3: cpu]),
      from: "vm1")
    // Another host's samples are not the governor's.
    feed.observe(
      .cpuSample(monotonicNanoseconds: 9, total: CPUTimes(steal: 999), perCPU: [0: cpu]),
      from: "vm2")
    let guest = feed.reading(.guestProcStat)
    #expect(guest?.stealNanoseconds == 210_000_000)
    #expect(guest?.timeNanoseconds == 5_000)
    #expect(guest?.online == CPUSet([0, 1, 3]))
    #expect(feed.reading(.hostSide) == nil)
    feed.observe(
      .hostSteal(
        controllerNanoseconds: 8_000, percent: 12,
        vcpus: [
          SchedStat(runNanoseconds: 1, waitNanoseconds: 400, timeslices: 1), nil,
          SchedStat(runNanoseconds: 1, waitNanoseconds: 600, timeslices: 1),
        ]),
      from: "vm1")
    let host = feed.reading(.hostSide)
    #expect(host?.stealNanoseconds == 1_000 && host?.timeNanoseconds == 8_000)
    #expect(host?.online == CPUSet([0, 1, 3]))
  }
}
