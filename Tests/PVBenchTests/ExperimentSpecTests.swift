import AgentProtocol
import Controller
import Experiments
import Foundation
import LinuxHost
import Report
import Results
import Testing
import Vocabulary
import Workloads

/// Writes `text` to a temporary file named `name` and loads it as an experiment
/// on a pretend machine with CPUs 0-1.
private func load(_ text: String, name: String = "exp.yaml") throws(SpecError) -> LoadedExperiment {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
    "pvbench-spec-\(UUID().uuidString)")
  try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: dir) }
  let path = dir.appendingPathComponent(name).path
  precondition(
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8)),
    "cannot write \(path)")
  do {
    return try ExperimentLoader.load(path: path) {
      $0 == "/" ? CPUSet(0...1) : HostPaths(root: $0).presentCPUs()
    }
  } catch {
    // Report paths relative to the temporary folder so the expected text is stable.
    throw SpecError(
      diagnostics: error.diagnostics.map {
        var diagnostic = $0
        diagnostic.file = name
        return diagnostic
      })
  }
}

private func errors(_ text: String) -> [String] {
  do {
    _ = try load(text)
    return []
  } catch {
    return error.diagnostics.map(\.description)
  }
}

private let valid = """
  name: t
  hosts:
    vm1: { qemu: { vcpus: 2, memory: 256M }, entitled: 1 }
    vm2: { qemu: { vcpus: 2 }, entitled: 1 }
  measure:
    host: vm1
    schbench: { workers: 2, runtime: 10s }
  noise:
    host: vm2
    stress: { busy: 5s, idle: 5s }
  modes:
    - out-of-box
    - hotplug: { cpus: non-entitled }
  """

@Suite struct ExperimentSpecTests {
  @Test func validFileDecodesWithDefaults() throws {
    let loaded = try load(valid)
    let experiment = loaded.experiment
    #expect(experiment.name == "t")
    #expect(experiment.hosts.map(\.name) == ["vm1", "vm2"])
    #expect(experiment.measure.schbench.messageThreads == 1)
    #expect(experiment.measure.schbench.runtime == DurationValue(seconds: 10))
    #expect(experiment.modes.map(\.label) == ["Out of Box", "cpu_hotplug"])
    #expect(experiment.modes[1].cpus == .nonEntitled)
    #expect(experiment.trigger == .followNoise)
    #expect(loaded.points.count == 1)
  }

  @Test func expectRowsKeepEveryDigitOfTheirPercentile() throws {
    // "%.1f" made both of the last two rows "100.0", and the report then estimated p100.
    let experiment = try load(
      valid + """

        expect:
          tolerance: 25%
          values:
            out-of-box: { 50.0th: 5, 99.96th: 100, 99.99th: 200 }
        """
    ).experiment
    #expect(
      experiment.expect?.wakeupMicroseconds == [
        "out-of-box": ["50.0": 5, "99.96": 100, "99.99": 200]
      ])
  }

  @Test func reportPhaseIsAPhaseSelection() throws {
    #expect(try load(valid).experiment.report.phase == .busy)
    #expect(try load(valid + "\nreport: { phase: all }\n").experiment.report.phase == .all)
    #expect(
      errors(valid + "\nreport: { phase: transition }\n") == [
        "exp.yaml:14:18: error: report.phase: expected one of 'busy', 'idle', 'all', got 'transition'"
      ])
  }

  @Test func syntaxErrorHasPosition() {
    #expect(
      errors("name: t\nhosts: [a, b\n")
        == [
          "exp.yaml:3:1: error: YAML syntax: did not find expected ',' or ']' while parsing a flow sequence"
        ])
  }

  @Test func unknownKeyAndWrongTypeAndRangeAllInOnePass() {
    let text = valid.replacingOccurrences(
      of: "workers: 2, runtime: 10s", with: "worker: 2, runtime: ten"
    )
    .replacingOccurrences(of: "busy: 5s", with: "busy: 0s")
    #expect(
      errors(text) == [
        "exp.yaml:7:15: error: measure.schbench: unknown key 'worker' (did you mean 'workers'?)",
        "exp.yaml:7:35: error: measure.schbench.runtime: expected a duration such as '500ms', '10s' or '2m', got 'ten'",
        "exp.yaml:10:19: error: noise.stress.busy: must be at least 100ms, got '0s'",
      ])
  }

  @Test func missingKeyAndUnknownHost() {
    let text = valid.replacingOccurrences(of: "name: t\n", with: "")
      .replacingOccurrences(of: "host: vm2", with: "host: vm3")
    #expect(
      errors(text) == [
        "exp.yaml:1:1: error: missing key 'name'",
        "exp.yaml:8:9: error: noise.host: no host named 'vm3' (did you mean 'vm1'?) — the hosts are 'vm1', 'vm2'",
      ])
  }

  @Test func entitlementBeyondVCPUsAndPoolOverflow() {
    let text = valid.replacingOccurrences(
      of: "vm2: { qemu: { vcpus: 2 }, entitled: 1 }",
      with: "vm2: { qemu: { vcpus: 2 }, entitled: 3 }")
    #expect(
      errors(text) == [
        "exp.yaml:3:3: error: hosts: the qemu hosts' entitlements add up to 4 cores, more than the pool's 2 host CPUs",
        "exp.yaml:4:40: error: hosts.vm2.entitled: 3 entitled cores exceed the host's 2 cores (2 vCPUs)",
      ])
  }

  @Test func poolModelDefaultsToDispatch() throws {
    let standard = try load(valid).experiment
    #expect(standard.poolModel == .dispatch)
    #expect(standard.poolWindow == DurationValue(nanoseconds: 10_000_000))
    let fair = try load(valid + "\npool: { model: fair }\n").experiment
    #expect(fair.pool == PoolSpec(hostCPUs: .all, model: .fair))
    #expect(fair.poolModel == .fair)
  }

  @Test func poolWindowIsADurationFromOneMillisecondToOneSecond() throws {
    let five = try load(valid + "\npool: { window: 5ms }\n").experiment
    #expect(five.pool == PoolSpec(hostCPUs: .all, model: .dispatch, window: .init(seconds: 0.005)))
    #expect(try load(valid + "\npool: { window: 1s }\n").experiment.poolWindow == .init(seconds: 1))
  }

  /// A bad `pool:` line and the one error it gives, at the value.
  static let badPoolLines: [(String, String)] = [
    (
      "{ model: fiar, host_cpus: all }",
      "exp.yaml:14:16: error: pool.model: expected one of 'dispatch', 'entitled', 'fair', got 'fiar' (did you mean 'fair'?)"
    ),
    (
      "{ modle: fair }",
      "exp.yaml:14:9: error: pool: unknown key 'modle' (did you mean 'model'?)"
    ),
    (
      "{ window: 500us }",
      "exp.yaml:14:17: error: pool.window: must be at least 1ms, got '500us'"
    ),
    (
      "{ window: 2s }",
      "exp.yaml:14:17: error: pool.window: must be at most 1s (the longest CFS period), got '2s'"
    ),
    (
      "{ window: 10 }",
      "exp.yaml:14:17: error: pool.window: expected a duration such as '500ms', '10s' or '2m', got '10'"
    ),
    (
      "{ window: 1.0005ms }",
      "exp.yaml:14:17: error: pool.window: the CFS period is a whole number of microseconds, got '1000500ns'"
    ),
  ]

  @Test(arguments: badPoolLines)
  func aBadPoolLineIsOneErrorAtItsValue(line: String, error: String) {
    #expect(errors(valid + "\npool: \(line)\n") == [error])
  }

  @Test func uncappedWeightIsAnIntegerFrom0To255OnUncappedGuestsOnly() throws {
    let text = valid.replacingOccurrences(
      of: "vm2: { qemu: { vcpus: 2 }, entitled: 1 }",
      with: "vm2: { qemu: { vcpus: 2 }, entitled: 1, uncapped_weight: 200 }")
    let experiment = try load(text).experiment
    #expect(experiment.host(named: "vm2")?.uncappedWeight == 200)
    #expect(experiment.host(named: "vm1")?.effectiveUncappedWeight == 128)
    func with(_ value: String) -> String {
      valid.replacingOccurrences(
        of: "vm2: { qemu: { vcpus: 2 }, entitled: 1 }",
        with: "vm2: { qemu: { vcpus: 2\(value) }")
    }
    #expect(
      errors(with(" }, entitled: 1, uncapped_weight: 256")) == [
        "exp.yaml:4:60: error: hosts.vm2.uncapped_weight: must be at most 255, got '256'"
      ])
    #expect(
      errors(with(" }, entitled: 1, uncapped_weight: 1.5")) == [
        "exp.yaml:4:60: error: hosts.vm2.uncapped_weight: expected an integer, got '1.5'"
      ])
    #expect(
      errors(with(", capped: true }, entitled: 1, uncapped_weight: 0")) == [
        "exp.yaml:4:74: error: hosts.vm2.uncapped_weight: a capped guest takes no spare capacity, "
          + "so it has no uncapped weight; remove 'capped: true' or this key"
      ])
  }

  /// A resolved experiment stored before `pool.model` existed ran with one weight per guest.
  @Test func storedPoolWithoutModelReadsAsFair() throws {
    let json = Data(#"{"hostCPUs":"all"}"#.utf8)
    let pool = try JSONDecoder().decode(PoolSpec.self, from: json)
    #expect(pool.model == .fair)
    #expect(pool.window == PoolSpec.defaultWindow)
    let again = try JSONDecoder().decode(
      PoolSpec.self,
      from: JSONEncoder().encode(PoolSpec(hostCPUs: .all, window: .init(seconds: 0.02))))
    #expect(again == PoolSpec(hostCPUs: .all, model: .dispatch, window: .init(seconds: 0.02)))
  }

  @Test func planNamesWhatThePoolDoesToEachGuest() throws {
    let dispatch = ExperimentPlan.poolKnobs(of: try load(valid).experiment, onlineCPUs: 2)
    #expect(
      dispatch.map { "\($0.host) (\($0.role)) \($0.mode): \($0.change); \($0.when)" } == [
        "vm1 (measure) pool dispatch: its 2 vCPU threads share 1 x 10ms of CPU time per 10ms "
          + "window (CFS quota: entitled 1; uncapped weight 128, but no pool capacity is "
          + "unclaimed); QEMU's other threads outside the quota; for the whole run",
        "vm2 (noise) pool dispatch: its 2 vCPU threads share 1 x 10ms of CPU time per 10ms "
          + "window (CFS quota: entitled 1; uncapped weight 128, but no pool capacity is "
          + "unclaimed); QEMU's other threads outside the quota; for the whole run",
      ])
    // On 4 CPUs, 2 are unclaimed: vm1 (weight 128) and vm2 (weight 64) split them 2 : 1;
    // swept, the weight makes the printed quotas the file's.
    let uncapped = try load(
      valid.replacingOccurrences(
        of: "vm2: { qemu: { vcpus: 2 }, entitled: 1 }",
        with: "vm2: { qemu: { vcpus: 2 }, entitled: 1, uncapped_weight: 64 }")
        + "\nsweep: { hosts.vm2.uncapped_weight: [0, 64] }\n"
    ).experiment
    #expect(
      ExperimentPlan.poolKnobs(of: uncapped, onlineCPUs: 4).map(\.change) == [
        "its 2 vCPU threads share 2.33 x 10ms of CPU time per 10ms window (CFS quota: "
          + "entitled 1 plus 1.33 of the 2 CPUs no entitlement claims, by uncapped weight 128; "
          + "the file's values: hosts.vm2.uncapped_weight changes it per point); QEMU's other "
          + "threads outside the quota",
        "its 2 vCPU threads share 1.67 x 10ms of CPU time per 10ms window (CFS quota: "
          + "entitled 1 plus 0.667 of the 2 CPUs no entitlement claims, by uncapped weight 64; "
          + "the file's values: hosts.vm2.uncapped_weight changes it per point); QEMU's other "
          + "threads outside the quota",
      ])
    let entitled = ExperimentPlan.poolKnobs(
      of: try load(valid + "\npool: { model: entitled }\n").experiment)
    #expect(
      entitled.map(\.change) == [
        "a host cgroup weight for 1 entitled core for vCPU 0; "
          + "vCPU 1 in a child cgroup of the smallest weight (spare cycles only)",
        "a host cgroup weight for 1 entitled core for vCPU 0; "
          + "vCPU 1 in a child cgroup of the smallest weight (spare cycles only)",
      ])
    let fair = ExperimentPlan.poolKnobs(
      of: try load(valid + "\npool: { model: fair }\n").experiment)
    #expect(
      fair.map(\.change) == [
        "a host cgroup weight for 1 entitled core, shared equally by its 2 vCPUs",
        "a host cgroup weight for 1 entitled core, shared equally by its 2 vCPUs",
      ])
  }

  /// The pool's model and window only rewrite cgroup files between cells: a sweep over
  /// them keeps one boot; the uncapped weight is part of what guests boot with.
  @Test func poolSweepsAreRebootFreeAndTheManifestRecordsThePool() throws {
    let text =
      valid + """

        pool: { model: dispatch }
        sweep:
          pool.window: [5ms, 10ms, 20ms]
          pool.model: [dispatch, fair]
        """
    let loaded = try load(text)
    #expect(
      loaded.points.map { "\($0.experiment.poolModel.rawValue) \($0.experiment.poolWindow)" }
        == [
          "dispatch 5ms", "fair 5ms", "dispatch 10ms", "fair 10ms", "dispatch 20ms", "fair 20ms",
        ])
    #expect(ExperimentPlan(loaded).guestBoots == 1)
    let weights = try load(
      valid + """

        sweep:
          hosts.vm1.uncapped_weight: [0, 255]
        """)
    #expect(ExperimentPlan(weights).guestBoots == 2)
    let record = try #require(PoolRecord(loaded.points[0].experiment, onlineCPUs: [0, 1]))
    #expect(
      record
        == PoolRecord(
          model: "dispatch", windowMicroseconds: 5000, hostCPUs: 2,
          guests: [
            .init(name: "vm1", entitled: 1, capped: false, uncappedWeight: 128, dispatchCPUs: 1),
            .init(name: "vm2", entitled: 1, capped: false, uncappedWeight: 128, dispatchCPUs: 1),
          ]))
  }

  /// A sweep of what guests boot interleaves the kernels within each repetition and
  /// reverses their order every repetition, so the guests reboot only at a change.
  @Test func kernelSweepInterleavesKernelsAndReversesEveryRepetition() throws {
    let text =
      valid + """

        sweep:
          hosts.vm1.qemu.append: [mitigations=auto, mitigations=off]
          noise.stress.busy: [5s, 6s]
        repeat: 2
        """
    let plan = ExperimentPlan(try load(text))
    let order = plan.cells.map { cell in
      "r\(cell.repetition) " + cell.point.map(\.value).joined(separator: " ") + " "
        + cell.modeID
    }
    #expect(
      order == [
        "r1 mitigations=auto 5s out-of-box", "r1 mitigations=auto 5s hotplug",
        "r1 mitigations=auto 6s out-of-box", "r1 mitigations=auto 6s hotplug",
        "r1 mitigations=off 5s out-of-box", "r1 mitigations=off 5s hotplug",
        "r1 mitigations=off 6s out-of-box", "r1 mitigations=off 6s hotplug",
        "r2 mitigations=off 5s out-of-box", "r2 mitigations=off 5s hotplug",
        "r2 mitigations=off 6s out-of-box", "r2 mitigations=off 6s hotplug",
        "r2 mitigations=auto 5s out-of-box", "r2 mitigations=auto 5s hotplug",
        "r2 mitigations=auto 6s out-of-box", "r2 mitigations=auto 6s hotplug",
      ])
    #expect(plan.guestBoots == 3)
    let point = plan.loaded.points.last!.experiment
    guard case .qemu(let qemu) = point.host(named: "vm1")?.transport else {
      Issue.record("vm1 is not a qemu host")
      return
    }
    #expect(qemu.append == "mitigations=off")
    // Without a boot key in the sweep the order stays point by point.
    let plain = ExperimentPlan(
      try load(valid + "\nsweep: { noise.stress.busy: [5s, 6s] }\nrepeat: 2\n"))
    #expect(plain.cells.map(\.repetition) == [1, 1, 2, 2, 1, 1, 2, 2])
    #expect(plain.guestBoots == 1)
    // Any key of a guest's shape reboots it too (it used to be booted once, as written).
    let shapes = ExperimentPlan(try load(valid + "\nsweep: { hosts.vm1.qemu.vcpus: [2, 4] }\n"))
    #expect(shapes.guestBoots == 2)
    #expect(
      shapes.knobs.last?.change == "shut down and booted again when hosts.vm1.qemu.vcpus changes")
  }

  @Test func appendIsOneLineOfWords() {
    #expect(
      errors(
        valid.replacingOccurrences(
          of: "vm2: { qemu: { vcpus: 2 }", with: #"vm2: { qemu: { vcpus: 2, append: "a\"b" }"#))
        == [
          #"exp.yaml:4:36: error: hosts.vm2.qemu.append: kernel command line words go on one line, without quotes, got 'a"b'"#
        ])
  }

  @Test func cpulistNamingMissingCPUs() {
    let text = valid.replacingOccurrences(of: "cpus: non-entitled", with: "cpus: 1-4")
    #expect(
      errors(text) == [
        "exp.yaml:13:5: error: modes[1]: vm1 has no CPU 2-4 (it has CPUs 0-1)"
      ])
  }

  @Test func unknownModeSuggestsTheRightOne() {
    let text = valid.replacingOccurrences(of: "- hotplug:", with: "- hotplg:")
    #expect(
      errors(text) == [
        "exp.yaml:13:5: error: modes[1]: expected one of 'out-of-box', 'hotplug', 'paravirt', 'preferred', 'cpuset', 'governor', got 'hotplg' (did you mean 'hotplug'?)"
      ])
  }

  @Test func emptyBinaryAndMissingFiles() throws {
    #expect(
      errors("# nothing here\n")
        == [
          "exp.yaml:1:1: error: the file is empty; an experiment needs at least 'name', 'hosts', 'measure' and 'modes'"
        ])
    #expect(
      errors("name: t\u{0}\n")
        == [
          "exp.yaml:1:1: error: this is not a text file (a NUL byte at offset 7); give a YAML file"
        ])
    #expect(throws: SpecError.self) {
      try ExperimentLoader.load(path: "/nonexistent/x.yaml") { _ in CPUSet(0...1) }
    }
    do {
      _ = try ExperimentLoader.load(path: "/nonexistent/x.yaml") { _ in CPUSet(0...1) }
    } catch {
      #expect(error.description == "/nonexistent/x.yaml: error: no such file")
    }
  }

  @Test func sweepExpandsPointsAndReportsBadValuesWhereWritten() throws {
    let swept =
      valid + "\nsweep:\n  noise.stress.busy: [4s, 5000ms]\n  noise.stress.idle: same-as-busy\n"
    let loaded = try load(swept)
    #expect(loaded.points.count == 2)
    #expect(loaded.points[1].values.map(\.value) == ["5s", "5s"])
    #expect(loaded.points[1].experiment.noise?.stress.idle == DurationValue(seconds: 5))

    let bad = valid + "\nsweep:\n  noise.stress.busy: [5s, fast]\n  noise.stres.idle: [1s]\n"
    #expect(
      errors(bad) == [
        "exp.yaml:15:27: error: noise.stress.busy: expected a duration such as '500ms', '10s' or '2m', got 'fast'",
        "exp.yaml:16:3: error: sweep: 'noise.stres.idle' names nothing in this file; a swept key must sit in an existing section (e.g. 'noise.stress.busy')",
      ])
  }
}

@Suite struct ScheduleCheckTests {
  @Test func aPhaseNoIntervalCanBeTaggedWithIsAnErrorAtItsKey() {
    let short = valid.replacingOccurrences(of: "busy: 5s, idle: 5s", with: "busy: 2s, idle: 2s")
    #expect(
      errors(short) == [
        "exp.yaml:10:19: error: noise.stress.busy: no interval can be tagged busy: a busy phase "
          + "of 2s is not longer than 'settle' (1s) plus 'measure.schbench.interval' (1s), so "
          + "every interval lies within the settle window of an edge; make it longer than 2s or "
          + "shorten 'settle'",
        "exp.yaml:10:29: error: noise.stress.idle: no interval can be tagged idle: an idle phase "
          + "of 2s is not longer than 'settle' (1s) plus 'measure.schbench.interval' (1s), so "
          + "every interval lies within the settle window of an edge; make it longer than 2s or "
          + "shorten 'settle'",
      ])
    // A shorter settle window makes the same phases possible.
    #expect(errors(short + "\nsettle: 500ms\n").isEmpty)
  }

  @Test func aSweptValueIsCheckedWhereItIsWritten() {
    let swept =
      valid + "\nsweep:\n  noise.stress.busy: [10s, 1500ms]\n"
    #expect(
      errors(swept).map { $0.prefix(60) } == [
        "exp.yaml:15:28: error: noise.stress.busy: no interval can be"
      ])
  }

  @Test func fewCleanIntervalsAreAWarningNotAnError() throws {
    let loaded = try load(
      valid.replacingOccurrences(of: "busy: 5s, idle: 5s", with: "busy: 4s, idle: 5s"))
    #expect(
      loaded.warnings.map {
        var warning = $0
        warning.file = "exp.yaml"
        return warning.description
      } == [
        "exp.yaml:10:19: warning: noise.stress.busy: a busy phase of 4s leaves as few as 2 "
          + "clean intervals of 1s per cycle after the 1s settle window (at least 3 give stable "
          + "percentiles)"
      ])
    #expect(try load(valid).warnings.isEmpty)
  }
}

@Suite struct PlanTests {
  @Test func cellIDsAreStableAndDistinct() throws {
    let text = valid + "\nrepeat: 3\nsweep:\n  measure.schbench.workers: [1, 2]\n"
    let first = ExperimentPlan(try load(text))
    let second = ExperimentPlan(try load(text))
    #expect(first.cells.count == 2 * 2 * 3)
    #expect(first.cells.map(\.id) == second.cells.map(\.id))
    #expect(Set(first.cells.map(\.id)).count == first.cells.count)
    // The same point written differently is the same cell.
    let reordered = ExperimentPlan(
      try load(valid.replacingOccurrences(of: "runtime: 10s", with: "runtime: 10000ms")))
    #expect(reordered.cells.map(\.id) == ExperimentPlan(try load(valid)).cells.map(\.id))
  }

  @Test func estimatesAddRuntimeOverheadAndSetup() throws {
    let plan = ExperimentPlan(try load(valid))
    #expect(plan.cells.map(\.estimatedSeconds) == [13, 13])
    #expect(plan.totalSeconds == 15 + 26)
    #expect(
      plan.knobs.map(\.change)[1]
        == "CPU 1 (non-entitled cores) offline through /sys/devices/system/cpu/cpuN/online")
  }

  /// Workers left out are schbench's default on the measured host, not the controller's.
  @Test func planSaysWorkersAreResolvedOnTheMeasuredHost() throws {
    let set = ExperimentPlan(try load(valid))
    #expect(set.knobs.first { $0.mode == "schbench" }?.change == "1 message threads × 2 workers")
    let open = ExperimentPlan(
      try load(valid.replacingOccurrences(of: "workers: 2, ", with: "message_threads: 2, ")))
    #expect(
      open.knobs.first { $0.mode == "schbench" }?.change
        == "2 message threads × workers resolved on vm1 at run time "
        + "(its online CPUs ÷ 2, rounded up)")
  }
}

@Suite struct PoolHeaderTests {
  /// The report header gives what a reader needs to repeat the pool: model, window, host
  /// CPUs, and per guest its entitlement, capped or weight, and its quota.
  @Test func headerNamesTheModelWindowAndEachGuestsShare() {
    let pool = PoolRecord(
      model: "dispatch", windowMicroseconds: 5000, hostCPUs: 4,
      guests: [
        .init(name: "vm1", entitled: 1, capped: false, uncappedWeight: 200, dispatchCPUs: 2),
        .init(name: "vm2", entitled: 0.5, capped: true, uncappedWeight: nil, dispatchCPUs: 0.5),
      ])
    #expect(
      ReportRenderer.poolLines(pool) == [
        "pool model: dispatch (vCPU threads get entitled x window of CPU time per window, as "
          + "PowerVM's dispatcher); window 5ms; 4 host CPUs",
        "pool guest vm1: entitled 1, uncapped weight 200, vCPU quota 10ms per 5ms",
        "pool guest vm2: entitled 0.5, capped, vCPU quota 2.5ms per 5ms",
      ])
    let fair = PoolRecord(
      model: "fair", windowMicroseconds: nil, hostCPUs: 1,
      guests: [.init(name: "g", entitled: 1, capped: false, uncappedWeight: 128, dispatchCPUs: nil)]
    )
    #expect(
      ReportRenderer.poolLines(fair) == [
        "pool model: fair (one weight per guest, split over its runnable vCPUs; folding loses "
          + "capacity); 1 host CPU",
        "pool guest g: entitled 1, uncapped weight 128",
      ])
    #expect(
      ReportRenderer.poolLines(pool, sweepKeys: ["pool.window", "noise.stress.busy"]).first
        == "pool model: dispatch (vCPU threads get entitled x window of CPU time per window, "
        + "as PowerVM's dispatcher); window 5ms; 4 host CPUs; swept per point: pool.window")
    // A guest's uncapped weight changes every guest's share of the unclaimed capacity, so
    // the quotas printed are the file's and say so.
    let byWeight = ReportRenderer.poolLines(
      pool, sweepKeys: ["hosts.vm1.uncapped_weight", "hosts.vm1.qemu.vcpus"])
    #expect(byWeight.first?.hasSuffix("; swept per point: hosts.vm1.uncapped_weight") == true)
    #expect(
      byWeight.last
        == "pool guest vm2: entitled 0.5, capped, vCPU quota 2.5ms per 5ms (the file's; each "
        + "point has its own)")
  }
}
