import Foundation
import LinuxHost
import LocalVMs
import PVBenchTestSupport
import Results
import Testing

/// `pvbench run` with a pseries ppc64le guest (QEMU under TCG, Debian's ppc64el kernel, the
/// portable agent on /dev/hvc1) as the measure host and an x86 guest making the noise:
/// hotplug through the ppc64 guest's /sys/devices/system/cpu/cpuN/online, its facts (no
/// lparcfg in Debian's kernel: no entitlement), and a report at the end.
@Suite(
  .serialized,
  .enabled(
    if: PseriesGuestSupport.canBoot,
    "needs qemu-system-ppc64, the ppc64el guest files, the ppc64le agent"))
struct PseriesGuestTests {
  @Test(.timeLimit(.minutes(8)))
  func aPseriesMeasureHostRunsHotplugToAReport() throws {
    let work = try VMTestSupport.temporaryFolder("pseries")
    defer { VMTestSupport.remove(work) }
    let file = work + "/pseries.yaml"
    try Self.experiment.write(toFile: file, atomically: true, encoding: .utf8)
    let started = Date()
    let result = try CLI.run(["run", file, "--results", work + "/results"], timeout: 420)
    let seconds = Date().timeIntervalSince(started)
    #expect(result.status == 0, "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    print("pseries run: \(Int(seconds)) s, \(run)")
    print(
      result.stderr.split(separator: "\n").filter { $0.contains("boot") }.joined(separator: "\n"))

    // The measure host is the pseries guest, served by the portable agent.
    let manifest = try JSONDecoder().decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: run + "/manifest.json")))
    let lpar = try #require(manifest.hosts.first { $0.name == "lpar1" })
    #expect(lpar.agent == "portable (C) ppc64le, in the guest image")
    #expect(lpar.kernelRelease.hasSuffix("-powerpc64le"), "\(lpar.kernelRelease)")
    #expect(lpar.cpusPresent == "0-1")
    #expect(lpar.threadsPerCore == 1)
    #expect(lpar.interfaces.contains("hotplug"), "\(lpar.interfaces)")
    // Debian's kernel has no lparcfg: the entitlement is the experiment file's.
    #expect(lpar.entitled == 1)
    let noise = try #require(manifest.hosts.first { $0.name == "lpar2" })
    #expect(noise.agent == "swift, in the guest image")
    let console = try String(contentsOfFile: run + "/lpar1.console.log", encoding: .utf8)
    #expect(console.contains("pvbench-init: starting agent on /dev/hvc1"))
    // SLOF lists the two spapr-vty consoles: hvc0 the console, hvc1 the agent's channel.
    #expect(console.contains("Populating /vdevice/vty@71000002"))

    // Hotplug went through the guest's sysfs: CPU 1 offline at the busy edges.
    let cells = try FileManager.default.contentsOfDirectory(atPath: run + "/cells").sorted()
    #expect(cells.count == 2)
    var applied = 0
    for cell in cells {
      let folder = run + "/cells/" + cell
      let summary = try JSONDecoder().decode(
        CellSummary.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/cell.json")))
      #expect(summary.status == .complete, "\(cell): \(summary.reasons)")
      let events = try String(contentsOfFile: folder + "/events.jsonl", encoding: .utf8)
        .split(separator: "\n").map {
          try JSONDecoder().decode(EventRecord.self, from: Data($0.utf8))
        }
      let applies = events.filter { $0.kind == .modeApply }
      #expect(applies.allSatisfy { $0.detail == "hotplug: avoids CPUs 1" }, "\(applies)")
      applied += applies.count
      let intervals = try String(contentsOfFile: folder + "/intervals.jsonl", encoding: .utf8)
        .split(separator: "\n")
      #expect(intervals.count >= 10, "\(cell): \(intervals.count) intervals")
    }
    #expect(applied >= 1)

    let report = try CLI.run(["report", run, "--format", "text"], timeout: 120)
    #expect(report.status == 0, "\(report.stderr)")
    print(report.stdout)
    #expect(report.stdout.contains("99.0th"))
    #expect(report.stdout.contains("hotplug"))

    // The doctor boots the guests again and reads the facts: no lparcfg, so no entitlement
    // from the platform, and hotplug supported on the pseries guest.
    let doctor = try CLI.run(["doctor", file], timeout: 420)
    #expect(doctor.status == 0, "\(doctor.stdout)\(doctor.stderr)")
    print(doctor.stdout)
    let lines = doctor.stdout.split(separator: "\n").map(String.init)
    let block = Array(lines.drop { $0 != "lpar1 (qemu)" }.prefix { $0 != "lpar2 (qemu)" })
    #expect(block.contains("  agent             portable (C) ppc64le, in the guest image"))
    #expect(block.contains("  kernel            \(lpar.kernelRelease)"))
    #expect(block.contains("  cores x threads   2 x 1"))
    #expect(
      block.contains(
        "  entitlement       not reported by the platform; taken from the experiment file"))
    #expect(block.contains("  mode hotplug      supported (avoids 1)"), "\(block)")

    let qemu = try CLI.shell("pgrep -f 'pvbench-lpar[12],debug-threads' || true")
    #expect(qemu.isEmpty, "QEMU left running: \(qemu)")
  }

  /// The measure host a pseries guest (2 vCPUs, one entitled core, CPU 1 folded by
  /// hotplug at each busy edge), the noise an x86 guest; 20 s cells.
  static let experiment = """
    name: pseries
    hosts:
      lpar1: { qemu: { arch: ppc64le, vcpus: 2, memory: 512M }, entitled: 1 }
      lpar2: { qemu: { vcpus: 2, memory: 384M }, entitled: 1 }
    # fair: under 'entitled' the folded vCPU runs on spare cycles only, and a TCG pseries
    # guest on a loaded machine then takes seconds to apply a mode.
    pool: { host_cpus: all, model: fair }
    measure:
      host: lpar1
      schbench: { workers: 2, runtime: 20s, interval: 1s, cache_footprint: 16K, operations: 1 }
    noise:
      host: lpar2
      stress: { busy: 5s, idle: 5s, workers: all, engine: builtin }
    modes:
      - out-of-box
      - hotplug: { cpus: non-entitled }
    settle: 1s
    """
}

enum PseriesGuestSupport {
  /// qemu-system-ppc64, Debian's ppc64el kernel and busybox in the cache
  /// (`scripts/install-deps --ppc64el`), the ppc64le agent (`scripts/build-agents`), and
  /// what the x86 noise guest needs.
  static var canBoot: Bool {
    let files = PseriesGuestFiles()
    let kernels = (try? FileManager.default.contentsOfDirectory(atPath: files.root + "/boot")) ?? []
    return VMTestSupport.canBoot && VMShell.which("qemu-system-ppc64") != nil
      && FileManager.default.isExecutableFile(atPath: files.busybox)
      && kernels.contains { $0.hasPrefix("vmlinux-") }
      && (try? PortableAgent.locate(architecture: "ppc64le", nextTo: CLI.binary.path)) != nil
  }
}
