import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import PVBenchTestSupport
import Results
import Testing

/// Modes that fold hosts other than the measure host (`hosts:`), and a noise section with
/// several hosts: the file's checks, and a run of three local agents, two of them on fake
/// kernel trees (so nothing on this machine changes) and one burning real CPUs.
@Suite(.serialized) struct CooperativeMixTests {
  let measured: FakeHostTree
  let bystander: FakeHostTree
  let work: URL

  init() throws {
    measured = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    bystander = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-mix-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  func cleanUp() {
    measured.remove()
    bystander.remove()
    try? FileManager.default.removeItem(at: work)
  }

  func write(_ text: String) throws -> String {
    let path = work.appendingPathComponent("mix-\(UUID().uuidString).yaml").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  func file(modes: [String], noise: String = "noisy", burners: Int = 2) -> String {
    LocalExperiment(
      name: "mix", root: measured.root,
      moreHosts: ["other: { local: { root: \(bystander.root) }, entitled: 1 }"], noiseHost: noise,
      burners: burners, modes: modes
    ).yaml
  }

  func state(_ tree: FakeHostTree) -> [String: String] {
    tree.snapshot().filter { !$0.key.contains("/run") }
  }

  @Test func theFileNamesWhichHostsAModeFoldsAndSeveralNoiseHosts() throws {
    defer { cleanUp() }
    let good = try ExperimentLoader.load(
      path: write(
        file(
          modes: [
            "out-of-box", "cpuset: { cpus: non-entitled, hosts: [box, other], label: both }",
            "hotplug: { hosts: other }",
          ], noise: "[noisy, other]"))
    ) { _ in CPUSet(0...1) }
    let experiment = good.experiment
    #expect(experiment.noise?.hosts == ["noisy", "other"])
    #expect(experiment.foldHosts(of: experiment.modes[0]) == [])
    #expect(experiment.foldHosts(of: experiment.modes[1]) == ["box", "other"])
    #expect(experiment.foldHosts(of: experiment.modes[2]) == ["other"])
    #expect(experiment.roleHosts.map { $0.name } == ["box", "noisy", "other"])
    #expect(experiment.roleHosts.map { $0.role } == ["measure", "noise", "noise"])

    // Unknown or repeated hosts, hosts on a mode that only acts on the measure host, and a
    // noise list holding the measure host are each refused with their place in the file.
    let cases: [(String, String, String)] = [
      ("cpuset: { hosts: [box, nobody] }", "noisy", "no host named 'nobody'"),
      ("cpuset: { hosts: [other, other] }", "noisy", "'other' is named twice"),
      ("governor: { hosts: [other] }", "noisy", "hosts"),
      ("cpuset: { hosts: [] }", "noisy", "name at least one host"),
      ("out-of-box", "[noisy, box]", "the noise host must differ from the measure host"),
    ]
    for (modes, noise, message) in cases {
      #expect {
        _ = try ExperimentLoader.load(path: try write(file(modes: [modes], noise: noise))) { _ in
          CPUSet(0...1)
        }
      } throws: { error in
        "\(error)".contains(message) && "\(error)".contains(":")
      }
    }
  }

  /// A fractional entitlement is PowerVM's processing units: whole cores rounded up for
  /// folding, the fraction for the pool, and the pool's sum checks the fraction.
  @Test func aFractionalEntitlementIsProcessingUnits() throws {
    defer { cleanUp() }
    func guests(_ entitled: String) -> String {
      """
      name: units
      hosts:
        vm1: { qemu: { vcpus: 2 }, entitled: \(entitled) }
        vm2: { qemu: { vcpus: 2 }, entitled: \(entitled) }
        vm3: { qemu: { vcpus: 2 }, entitled: \(entitled) }
      pool: { host_cpus: 0-1 }
      measure: { host: vm1 }
      noise: { host: [vm2, vm3], stress: { busy: 5s, idle: 5s } }
      modes: [out-of-box, { cpuset: { hosts: [vm1, vm3] } }]
      """
    }
    let loaded = try ExperimentLoader.load(path: write(guests("0.66"))) { _ in CPUSet(0...1) }
    let host = try #require(loaded.experiment.host(named: "vm1"))
    #expect(host.entitled == 1 && host.entitledUnits == 0.66 && host.entitlement == 0.66)
    #expect(loaded.experiment.roleHosts.map { $0.role } == ["measure", "noise", "noise"])
    #expect {
      _ = try ExperimentLoader.load(path: try write(guests("0.75"))) { _ in CPUSet(0...1) }
    } throws: { error in
      "\(error)".contains(
        "the qemu hosts' entitlements add up to 2.25 cores, more than the pool's 2 host CPUs")
    }
    #expect {
      _ = try ExperimentLoader.load(path: try write(guests("0.01"))) { _ in CPUSet(0...1) }
    } throws: { error in "\(error)".contains("must be between 0.05") }
  }

  /// The busy gate is not applied when the cell's mode folds the noise host itself. Here
  /// the noise host (a fake tree; its burners spin on this machine's CPUs) runs four
  /// burners per CPU, so its busy phases reach about a quarter of the four-per-CPU load:
  /// out-of-box fails the gate, the mode that folds the noise host does not.
  @Test func aModeThatFoldsTheNoiseHostIsNotHeldToTheBusyGate() throws {
    defer { cleanUp() }
    let before = state(bystander)
    let path = try write(
      file(
        modes: ["out-of-box", "cpuset: { cpus: non-entitled, hosts: [other] }"], noise: "other",
        burners: 4 * ProcessInfo.processInfo.activeProcessorCount))
    let result = try CLI.run(
      ["run", path, "--results", work.appendingPathComponent("results").path], timeout: 120)
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let store = try RunStore.load(from: URL(fileURLWithPath: run))
    let summaries = store.cells.compactMap(\.summary)
    let outOfBox = try #require(summaries.first { $0.modeID == "out-of-box" })
    #expect(outOfBox.status == .invalid)
    #expect(
      outOfBox.reasons.contains { $0.hasPrefix("other: busy phase 0 reached") },
      "\(outOfBox.reasons)")
    let folded = try #require(summaries.first { $0.modeID == "cpuset" })
    #expect(folded.status == .complete, "\(folded.reasons)")
    #expect(state(bystander) == before)
  }

  @Test func aModeFoldsTheHostsItNamesAndEveryHostIsRestored() throws {
    defer { cleanUp() }
    let before = (state(measured), state(bystander))
    let path = try write(
      file(modes: [
        "out-of-box", "cpuset: { cpus: non-entitled, hosts: [box, other], label: both fold }",
        "cpuset: { cpus: non-entitled, hosts: [other], label: other folds }",
      ]))
    let result = try CLI.run(
      ["run", path, "--results", work.appendingPathComponent("results").path], timeout: 150)
    #expect(result.status == 0, "\(result.stderr)")
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let store = try RunStore.load(from: URL(fileURLWithPath: run))
    #expect(store.manifest.hosts.map(\.name).sorted() == ["box", "noisy", "other"])
    #expect(store.manifest.hosts.first { $0.name == "other" }?.role == "fold")
    #expect(store.manifest.modes.map(\.hosts) == [nil, ["box", "other"], ["other"]])
    #expect(store.cells.count == 3)
    for cell in store.cells {
      let summary = try #require(cell.summary)
      #expect(summary.status == .complete, "\(summary.reasons)")
      let applied = Set(cell.events.filter { $0.kind == .modeApply }.map(\.host))
      let expected: Set<String> =
        switch summary.modeID {
        case "cpuset": ["box", "other"]
        case "cpuset-2": ["other"]
        default: []
        }
      #expect(applied == expected, "\(summary.modeID)")
      // The intervals' mode tags follow the first folded host: applied while busy.
      if summary.modeID != "out-of-box" {
        let busy = cell.intervals.filter { $0.phase == .busy }.map(\.modeApplied)
        let idle = cell.intervals.filter { $0.phase == .idle }.map(\.modeApplied)
        #expect(!busy.isEmpty && !busy.contains(false), "\(summary.modeID) busy \(busy)")
        #expect(!idle.contains(true), "\(summary.modeID) idle \(idle)")
      }
    }
    // Neither fake tree kept anything of the modes.
    #expect(state(measured) == before.0)
    #expect(state(bystander) == before.1)

    // Every host's /proc/stat is sampled into each cell (what the report's guest table
    // reads); local hosts have no QEMU threads, so hostside.csv holds its header only.
    for cell in store.cells {
      let folder = URL(fileURLWithPath: run).appendingPathComponent("cells/\(cell.id)")
      let samples = try String(
        contentsOf: folder.appendingPathComponent("samples.csv"), encoding: .utf8)
      let hosts = Set(
        samples.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[1] })
      #expect(hosts == ["box", "noisy", "other"], "\(cell.id)")
      let hostSide = try String(
        contentsOf: folder.appendingPathComponent("hostside.csv"), encoding: .utf8)
      #expect(hostSide == HostSideRow.header + "\n")
    }
  }
}
