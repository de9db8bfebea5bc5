import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

extension RunController {
  /// pvbench's governor: the `steal_governor` driver's loop (`GovernorPolicy`) run in the
  /// controller on the measure host's steal, acting through hotplug, paravirt or a cpuset.
  /// Each run of the loop is an event with what it measured and the preferred set after it.
  func governor(
    mode: ModeSpec, point: Experiment, measure: any HostSession, recorder: CellRecorder,
    stop: StopFlag
  ) async {
    let name = point.measure.host
    let parameters: StealGovernorParameters
    do { parameters = try mode.stealGovernorParameters() } catch {
      recorder.fail("\(name): the governor's parameters are refused: \(error)")
      return
    }
    let through = mode.governorAction ?? .cpuset
    let input = governorInput(for: point)
    let cmdline = (try? await measure.facts(role: "measure"))?.kernelCmdline ?? ""
    let allCPUs = CPUSet(measure.cores.flatMap { $0 })
    let policy = GovernorPolicy(
      parameters: parameters, cores: measure.cores,
      housekeeping: GovernorPolicy.housekeeping(cmdline: cmdline, cpus: allCPUs))
    let feed = GovernorFeed(host: name)
    lock.withLock { governorFeed = feed }
    defer { lock.withLock { if governorFeed === feed { governorFeed = nil } } }

    var action = ModeRequest(mode, host: name, entitledCores: measure.entitledCores)
    // One core per step, moved in place: the agent changes only the CPUs that differ and
    // never restores in between (the first fold applies the mode; unfolding the last core
    // leaves it applied with no CPU avoided).
    action.incremental = true
    // Each fold's evacuation goes on the timeline, given half an interval (at least two
    // 200 ms windows): the driver's step takes no time, and the loop keeps its pace.
    action.measureEvacuation = true
    action.evacuationTimeoutMilliseconds = max(400, parameters.intervalMilliseconds / 2)
    let interval = UInt64(parameters.intervalMilliseconds) * 1_000_000
    var wake = monotonicNow()

    var state: GovernorState?
    // The CPUs the mode avoids now. Through hotplug they are offline, so the guest's online
    // CPUs no longer show them: they stay in the driver's `active` (an unfold draws from
    // it) but not in the ratio's count, as num_active_cpus() would no longer count them.
    var avoided = CPUSet([Int]())
    while !stop.isStopped {
      // The driver stores its first reading at load and runs one interval later; until the
      // first samples come, wait in short slices. The wakes keep a fixed cadence, so the
      // time a step's apply took is not added to the interval.
      wake = max(wake + (state == nil ? 100_000_000 : interval), monotonicNow())
      while !stop.isStopped && monotonicNow() < wake {
        try? await Task.sleep(for: .milliseconds(20))
      }
      if stop.isStopped { break }
      guard let raw = feed.reading(input) else { continue }
      let active =
        through == .hotplug ? CPUSet(raw.online.cpus + avoided.cpus) : raw.online
      let reading = StealReading(
        stealNanoseconds: raw.stealNanoseconds, timeNanoseconds: raw.timeNanoseconds,
        active: active, activeCount: raw.online.count)
      guard var current = state else {
        let started = policy.start(reading)
        state = started
        recordGovernorStart(
          policy: policy, input: input, through: through, state: started, host: name,
          recorder: recorder)
        continue
      }
      guard let decision = policy.step(&current, reading) else { break }
      state = current
      let next = reading.active.subtracting(decision.preferred)
      recordGovernorDecision(
        decision, parameters: parameters, avoided: next, moves: next != avoided, host: name,
        recorder: recorder)
      if next != avoided {
        do {
          action.cpus = .list(next.cpus)
          let timing = try await measure.apply(action)
          recorder.recordMode(
            applied: !next.isEmpty, modeID: mode.id, timing: timing, at: recorder.now())
          avoided = next
        } catch {
          recorder.fail("\(name): the governor could not fold or unfold: \(error)")
          return
        }
      }
      if decision.stopped { break }
    }
  }

  /// Where the governor reads steal on the measure host: a local QEMU guest under TCG
  /// sees no steal (QEMU offers the KVM steal-time feature only under KVM), so its vCPU
  /// threads' run-queue wait stands in; every other host reads its own `/proc/stat`.
  func governorInput(for point: Experiment) -> GovernorInput {
    let isGuest = point.host(named: point.measure.host).map { host in
      if case .qemu = host.transport { true } else { false }
    }
    return isGuest == true && connector.accelerator != "KVM" ? .hostSide : .guestProcStat
  }

  private func recordGovernorStart(
    policy: GovernorPolicy, input: GovernorInput, through: GovernorAction,
    state: GovernorState, host: String, recorder: CellRecorder
  ) {
    let parameters = policy.parameters
    let why =
      input == .hostSide
      ? "the guest runs under TCG, where its kernel sees no steal"
      : "the kernel's own steal accounting"
    let cores = Set(state.preferred.cpus.map { policy.core(of: $0) })
      .sorted { ($0.cpus.first ?? 0) < ($1.cpus.first ?? 0) }
      .map(\.description).joined(separator: " ")
    let detail =
      "start: steal-governor policy, \(parameters.moduleArguments); input: \(input.rawValue) "
      + "(\(why)); acts through \(through.rawValue); housekeeping \(policy.housekeeping); "
      + "cores \(cores); preferred \(state.preferred)"
    recorder.append(
      EventRecord(
        timeNanoseconds: recorder.now(), host: host, kind: .governorStep, detail: detail,
        governor: GovernorStepRecord(
          action: "start", preferred: state.preferred.description, input: input.rawValue,
          intervalMilliseconds: parameters.intervalMilliseconds,
          highThreshold: parameters.highThreshold, lowThreshold: parameters.lowThreshold)))
  }

  private func recordGovernorDecision(
    _ decision: GovernorDecision, parameters: StealGovernorParameters, avoided: CPUSet,
    moves: Bool, host: String, recorder: CellRecorder
  ) {
    let detail = Self.governorDetail(decision, parameters: parameters)
    recorder.append(
      EventRecord(
        timeNanoseconds: recorder.now(), host: host, kind: moves ? .governor : .governorStep,
        detail: detail, cpus: moves ? avoided.description : nil,
        governor: GovernorStepRecord(
          action: decision.action.rawValue, ratio: decision.ratio,
          deltaStealNanoseconds: decision.deltaStealNanoseconds,
          deltaTimeNanoseconds: decision.deltaTimeNanoseconds,
          activeCPUs: decision.activeCount, preferred: decision.preferred.description,
          moved: decision.moved.description, stopped: decision.stopped ? true : nil)))
  }

  /// One line a person reads: the ratio against the thresholds, what moved, the set after.
  static func governorDetail(_ decision: GovernorDecision, parameters: StealGovernorParameters)
    -> String
  {
    let measured =
      "Δsteal \(decision.deltaStealNanoseconds) ns over \(decision.deltaTimeNanoseconds) ns × "
      + "\(decision.activeCount) CPUs"
    guard let ratio = decision.ratio else {
      return String(
        format: "skip: %.3f ms since the last reading (under 1 ms)",
        Double(decision.deltaTimeNanoseconds) / 1e6)
    }
    let percent = String(format: "%.2f%%", Double(ratio) / 100)
    var text: String
    switch decision.action {
    case .fold:
      text = "ratio \(ratio) (\(percent)) > high \(parameters.highThreshold): "
      text +=
        decision.moved.isEmpty
        ? "nothing to fold, only the first housekeeping core is preferred"
        : "fold \(decision.moved)"
    case .unfold:
      text = "ratio \(ratio) (\(percent)) <= low \(parameters.lowThreshold): "
      text +=
        decision.moved.isEmpty
        ? "nothing to unfold, every active CPU is preferred"
        : "unfold \(decision.moved)"
    case .hold, .skip:
      text = "ratio \(ratio) (\(percent)) between the thresholds: hold"
    }
    text += "; preferred \(decision.preferred) (\(measured))"
    if decision.stopped {
      text +=
        "; the preferred set was empty or not within the active CPUs: preferred "
        + "restored to active, the governor stops"
    }
    return text
  }
}

extension GovernorPolicy {
  /// The housekeeping CPUs of a kernel started with `cmdline`
  /// (`housekeeping_cpumask(HK_TYPE_KERNEL_NOISE)`): every CPU of `cpus` except those given
  /// to `nohz_full=` or to `isolcpus=` with the `nohz` flag.
  package static func housekeeping(cmdline: String, cpus: CPUSet) -> CPUSet {
    var isolated: [Int] = []
    for word in cmdline.split(separator: " ") {
      if word.hasPrefix("nohz_full="), let list = CPUSet(parsing: String(word.dropFirst(10))) {
        isolated += list.cpus
      } else if word.hasPrefix("isolcpus=") {
        var parts = word.dropFirst(9).split(separator: ",").map(String.init)
        // Flags come first; the cpulist is what is left once they are taken off.
        let flags = ["nohz", "domain", "managed_irq"]
        var hasNohz = false
        while let first = parts.first, flags.contains(first) {
          hasNohz = hasNohz || first == "nohz"
          parts.removeFirst()
        }
        if hasNohz, let list = CPUSet(parsing: parts.joined(separator: ",")) {
          isolated += list.cpus
        }
      }
    }
    let kept = cpus.subtracting(CPUSet(isolated))
    // The kernel refuses to isolate every CPU; a command line that would is ignored.
    return kept.isEmpty ? cpus : kept
  }
}
