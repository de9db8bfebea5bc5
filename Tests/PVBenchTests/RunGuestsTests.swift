import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// `pvbench run` with two real QEMU guests (TCG here): the noise guest cycles busy/idle,
/// the measure guest's non-entitled CPU goes offline for real at each busy edge.
@Suite(.serialized, .enabled(if: VMTestSupport.canBoot, "needs qemu-system-x86, a kernel, busybox"))
struct RunGuestsTests {
  @Test func twoGuestsFollowTheNoiseWithRealHotplugAndLeaveNothing() throws {
    let work = try VMTestSupport.temporaryFolder("run")
    defer { VMTestSupport.remove(work) }
    let result = try run(Self.hotplugFollowsTheNoise, as: "guests.yaml", in: work, timeout: 400)
    #expect(result.status == 0, "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    // Both guests booted: their consoles are kept and show our init.
    for guest in ["g1", "g2"] {
      let console = (try? String(contentsOfFile: "\(run)/\(guest).console.log", encoding: .utf8))
      #expect(console?.contains("pvbench-init") == true, "\(guest) console")
    }
    let cells = try FileManager.default.contentsOfDirectory(atPath: run + "/cells")
    #expect(cells.count == 1)
    let cell = run + "/cells/" + (cells.first ?? "")
    let summary = try JSONDecoder().decode(
      CellSummary.self, from: Data(contentsOf: URL(fileURLWithPath: cell + "/cell.json")))
    #expect(summary.status == .complete, "\(summary.reasons)")
    let intervals = try String(contentsOfFile: cell + "/intervals.jsonl", encoding: .utf8)
      .split(separator: "\n").map {
        try JSONDecoder().decode(IntervalRecord.self, from: Data($0.utf8))
      }

    // TCG guests report no steal: the figure comes from the host side.
    #expect(summary.stealSource == .host)
    let busySteal = intervals.filter { $0.phase == .busy }.compactMap(\.stealPercent)
    let idleSteal = intervals.filter { $0.phase == .idle }.compactMap(\.stealPercent)
    #expect(!busySteal.isEmpty && !idleSteal.isEmpty)

    // Hotplug verified CPU 1 offline at each busy edge and back online at each idle edge.
    let events = try String(contentsOfFile: cell + "/events.jsonl", encoding: .utf8)
      .split(separator: "\n").map {
        try JSONDecoder().decode(EventRecord.self, from: Data($0.utf8))
      }
    // Each guest's vCPU threads are in hostside.csv under its name. g2 burns both its
    // vCPUs in busy phases, two threads on the one host CPU its equal weight gives it, so
    // they wait on the run queue far more than in idle phases, when they sleep.
    let edges = events.filter { $0.kind == .phaseEdge }.map {
      (time: $0.timeNanoseconds, busy: $0.detail == "busy")
    }
    var last: [String: (time: UInt64, wait: UInt64)] = [:]
    var waits: [Bool: (wait: Double, wall: Double)] = [:]
    var threads = Set<String>()
    let second: UInt64 = 1_000_000_000
    for line in try String(contentsOfFile: cell + "/hostside.csv", encoding: .utf8)
      .split(separator: "\n").dropFirst()
    {
      let fields = line.split(separator: ",").map(String.init)
      guard fields.count == 5, let time = UInt64(fields[0]), let wait = UInt64(fields[4])
      else { continue }
      threads.insert(fields[1] + "/" + fields[2])
      let key = fields[1] + "/" + fields[2]
      defer { last[key] = (time, wait) }
      guard fields[1] == "g2", let before = last[key],
        let edge = edges.last(where: { $0.time <= before.time }),
        before.time >= edge.time + second,
        !edges.contains(where: { $0.time > before.time && $0.time <= time })
      else { continue }
      waits[edge.busy, default: (0, 0)].wait += Double(wait - before.wait)
      waits[edge.busy, default: (0, 0)].wall += Double(time - before.time)
    }
    #expect(threads == ["g1/0", "g1/1", "g2/0", "g2/1"])
    let busyWait = (waits[true]?.wait ?? 0) / max(1, waits[true]?.wall ?? 0)
    let idleWait = (waits[false]?.wait ?? 0) / max(1, waits[false]?.wall ?? 0)
    #expect(busyWait > idleWait + 0.2, "g2 waits busy \(busyWait) idle \(idleWait)")

    let applies = events.filter { $0.kind == .modeApply }
    let restores = events.filter { $0.kind == .modeRestore }
    #expect(applies.count >= 2)
    #expect(applies.allSatisfy { $0.detail == "hotplug: avoids CPUs 1" }, "\(applies)")
    #expect(restores.count >= applies.count)
    #expect(intervals.filter { $0.phase == .busy }.map(\.modeApplied).allSatisfy { $0 })
    #expect(intervals.filter { $0.phase == .idle }.map(\.modeApplied).allSatisfy { !$0 })

    // Nothing is left: no QEMU of ours, no pool cgroup.
    let qemu = try CLI.shell("pgrep -f 'pvbench-g[12],debug-threads' || true")
    #expect(qemu.isEmpty, "QEMU left running: \(qemu)")
    let cgroups = try CLI.shell(
      "ls -d /sys/fs/cgroup/*/pvbench-*-g[12] /sys/fs/cgroup/pvbench-*-g[12] 2>/dev/null || true")
    #expect(cgroups.isEmpty, "cgroups left: \(cgroups)")
  }

  /// A sweep of the guest kernel's command line: the guests are rebooted between the two
  /// points, each point's cells ran the command line it names, and the manifest says so.
  @Test func aKernelCommandLineSweepRebootsTheGuestsBetweenPoints() throws {
    let work = try VMTestSupport.temporaryFolder("kab")
    defer { VMTestSupport.remove(work) }
    let result = try run(Self.kernelCommandLineSweep, as: "kab.yaml", in: work, timeout: 300)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      result.stderr.contains("rebooting the guests (boot 2) for hosts.k1.qemu.append=pvbench.ab=b"))
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let manifest = try JSONDecoder().decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: run + "/manifest.json")))
    let kernels = try #require(manifest.kernels)
    #expect(
      kernels.map(\.point) == [
        ["hosts.k1.qemu.append": "pvbench.ab=a"], ["hosts.k1.qemu.append": "pvbench.ab=b"],
      ])
    #expect(kernels[0].kernelCmdline.hasSuffix(" pvbench.ab=a"), "\(kernels[0].kernelCmdline)")
    #expect(kernels[1].kernelCmdline.hasSuffix(" pvbench.ab=b"), "\(kernels[1].kernelCmdline)")
    // The first boot's console is kept under boot-1, the last one beside the cells.
    let first = try String(contentsOfFile: run + "/boot-1/k1.console.log", encoding: .utf8)
    #expect(first.contains("pvbench-init"))
    #expect(FileManager.default.fileExists(atPath: run + "/k1.console.log"))
    let cells = try FileManager.default.contentsOfDirectory(atPath: run + "/cells")
    #expect(cells.count == 2)
    let qemu = try CLI.shell("pgrep -f 'pvbench-k[1],debug-threads' || true")
    #expect(qemu.isEmpty, "QEMU left running: \(qemu)")
    let cgroups = try CLI.shell("ls -d /sys/fs/cgroup/*/pvbench-*-k1 2>/dev/null || true")
    #expect(cgroups.isEmpty, "cgroups left: \(cgroups)")
  }

  /// Writes `yaml` into `work` as `name` and runs `pvbench run` on it, the results in
  /// `work/results`.
  func run(_ yaml: String, as name: String, in work: String, timeout: TimeInterval) throws
    -> CLI.Result
  {
    let file = work + "/" + name
    try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    return try CLI.run(["run", file, "--results", work + "/results"], timeout: timeout)
  }

  /// Two guests, the noise guest cycling busy/idle, the measure guest in hotplug.
  static let hotplugFollowsTheNoise = """
    name: guests
    hosts:
      g1: { qemu: { vcpus: 2, memory: 384M }, entitled: 1 }
      g2: { qemu: { vcpus: 2, memory: 384M }, entitled: 1 }
    # fair: this test is about hotplug following the noise; under 'entitled' the offlined
    # vCPU runs on spare cycles only, so on a loaded machine an apply can take seconds.
    pool: { host_cpus: all, model: fair }
    measure:
      host: g1
      schbench: { workers: 2, runtime: 32s, interval: 1s, cache_footprint: 16K, operations: 1 }
    noise:
      host: g2
      stress: { busy: 8s, idle: 8s, workers: all, engine: builtin }
    modes:
      - hotplug: { cpus: non-entitled }
    settle: 1s
    """

  /// One guest and no noise, its kernel command line swept over two values.
  static let kernelCommandLineSweep = """
    name: kab
    hosts:
      k1: { qemu: { vcpus: 2, memory: 384M }, entitled: 1 }
    measure:
      host: k1
      schbench: { workers: 1, runtime: 3s, interval: 1s, cache_footprint: 16K, operations: 1 }
    modes: [out-of-box]
    trigger: static
    sweep:
      hosts.k1.qemu.append: [pvbench.ab=a, pvbench.ab=b]
    """
}
