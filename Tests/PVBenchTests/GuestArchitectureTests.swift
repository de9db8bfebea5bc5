import Experiments
import Foundation
import LinuxHost
import LocalVMs
import Testing
import Vocabulary

/// The `arch:` key of a qemu host, the pseries command line and init, and the agent choice
/// by architecture — without booting anything.
@Suite struct GuestArchitectureTests {
  func load(_ text: String) -> (Experiment?, [String]) {
    let folder = NSTemporaryDirectory() + "pvbench-arch-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/exp.yaml"
    try? text.write(toFile: path, atomically: true, encoding: .utf8)
    do {
      let loaded = try ExperimentLoader.load(path: path) {
        $0 == "/" ? CPUSet(0...1) : HostPaths(root: $0).presentCPUs()
      }
      return (loaded.experiment, [])
    } catch {
      return (
        nil,
        error.diagnostics.map {
          var diagnostic = $0
          diagnostic.file = "exp.yaml"
          return diagnostic.description
        }
      )
    }
  }

  func experiment(lpar1 qemu: String) -> String {
    """
    name: t
    hosts:
      lpar1: { qemu: \(qemu), entitled: 1 }
    measure:
      host: lpar1
      schbench: { workers: 2, runtime: 10s }
    modes: [out-of-box]
    trigger: static
    """
  }

  @Test func archPpc64leDecodesAndChangesTheBootKey() throws {
    let (parsed, problems) = load(experiment(lpar1: "{ arch: ppc64le, vcpus: 2, memory: 512M }"))
    #expect(problems == [])
    let host = try #require(parsed?.host(named: "lpar1"))
    guard case .qemu(let qemu) = host.transport else {
      Issue.record("lpar1 is not a qemu host")
      return
    }
    #expect(qemu.architecture == .ppc64le)
    var x86 = qemu
    x86.architecture = .x86_64
    #expect(qemu.bootKey == x86.bootKey + "|ppc64le")
    // A resolved experiment stored before 'arch' existed decodes as x86_64.
    let stored = try JSONEncoder().encode(x86)
    var object = try #require(JSONSerialization.jsonObject(with: stored) as? [String: Any])
    object.removeValue(forKey: "architecture")
    let old = try JSONDecoder().decode(
      QEMUHostSpec.self, from: JSONSerialization.data(withJSONObject: object))
    #expect(old == x86)
  }

  @Test func aWrongArchIsAnErrorAtItsPosition() {
    let (_, problems) = load(experiment(lpar1: "{ arch: ppc64, vcpus: 2 }"))
    #expect(
      problems == [
        "exp.yaml:3:26: error: hosts.lpar1.qemu.arch: expected one of 'x86_64', 'ppc64le', got 'ppc64' (did you mean 'ppc64le'?)"
      ])
  }

  @Test func aPseriesGuestHasOneThreadPerCore() {
    let (_, problems) = load(
      experiment(lpar1: "{ arch: ppc64le, vcpus: 4, threads_per_core: 2 }"))
    #expect(
      problems == [
        "exp.yaml:3:63: error: hosts.lpar1.qemu.threads_per_core: a ppc64le (pseries) guest runs under TCG, which gives it 1 thread per core, got 2"
      ])
  }

  @Test func pseriesArgumentsPutTheAgentOnASecondVTY() {
    let configuration = QEMUGuestConfiguration(
      name: "lpar1", vcpus: 2, memoryMiB: 512, kernelPath: "/k", initrdPath: "/i",
      accelerator: .tcg, channel: .hvc, qemu: "qemu-system-ppc64", architecture: .ppc64le)
    #expect(
      configuration.arguments(directory: "/t") == [
        "-name", "pvbench-lpar1,debug-threads=on", "-nodefaults", "-nographic", "-no-reboot",
        "-machine", "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off",
        "-smp", "2,maxcpus=2", "-m", "512M", "-kernel", "/k", "-initrd", "/i",
        "-append", "console=hvc0 quiet panic=-1 rdinit=/init pvbench.channel=hvc1",
        "-accel", "tcg",
        "-chardev", "file,id=console,path=/t/console.log", "-device", "spapr-vty,chardev=console",
        "-chardev", "socket,id=agent,path=/t/agent.sock,server=on,wait=off",
        "-device", "spapr-vty,chardev=agent",
      ])
    let script = GuestInit.script(modules: [], libraryPath: ["/lib"], installApplets: true)
    #expect(script.contains("\n/bin/busybox --install -s /bin\n"))
    #expect(
      script.contains(
        "if grep -qw pvbench.channel=hvc1 /proc/cmdline; then\n  port=/dev/hvc1\n  stty -F $port raw -echo 2>/dev/null\nfi\n"
      ))
  }

  @Test(arguments: [
    ("x86_64", "x86_64", AgentKind.swift),
    ("ppc64le", "x86_64", .portable(architecture: "ppc64le")),
    ("s390x", "x86_64", .portable(architecture: "s390x")),
    ("aarch64", "x86_64", .portable(architecture: "aarch64")), ("aarch64", "aarch64", .swift),
    ("x86_64", "aarch64", .portable(architecture: "x86_64")),
  ])
  func theAgentFollowsTheRemotesMachine(remote: String, swift: String, expected: AgentKind) {
    #expect(PortableAgent.choice(remote: remote, swiftArchitecture: swift) == expected)
  }

  @Test func noAgentServesRiscvOrBigEndianPower() {
    #expect(PortableAgent.choice(remote: "riscv64", swiftArchitecture: "x86_64") == nil)
    #expect(PortableAgent.choice(remote: "ppc64", swiftArchitecture: "x86_64") == nil)
    #expect("\(AgentKind.portable(architecture: "s390x"))" == "portable (C) s390x")
  }
}
