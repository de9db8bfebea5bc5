import AgentProtocol
import AgentTestDoubles
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Results
import Testing

@Suite(.serialized) struct DoctorTests {
  @Test func fitHostPrintsEveryFactAndExitsZero() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, entitledCapacity: 2)
    defer { tree.remove() }
    let result = ChildProcess.run(
      BuiltBinary.path,
      ["doctor", "--local", "--root", tree.root, "--mode", "hotplug", "--mode", "paravirt"])
    #expect(result.status == 0, "\(result.stderr)")
    let host = ModeEngine.localHostName
    #expect(
      result.stdout == """
        \(host) (local)
          reachable         yes, pvbench \(PVBenchVersion.current)
          kernel            6.18.0-pvtest
          CPUs              0-7 online of 0-7 present
          cores x threads   4 x 2
          entitlement       2.00 processors (lparcfg)
          steal             accounted (28 ticks since boot)
          paravirt file     writable (the series' write method is applied)
          cgroup            v2, cpuset usable
          mode hotplug      supported (avoids 4-7)
          mode paravirt     supported (avoids 4-7)
        verdict: \(host) can run every mode asked for

        """)
  }

  @Test func aReadOnlyParavirtFileIsSaidAndRefused() throws {
    let tree = try FakeHostTree(cores: 4, threadsPerCore: 2, paravirtWritable: false)
    defer { tree.remove() }
    let result = ChildProcess.run(
      BuiltBinary.path,
      ["doctor", "--local", "--root", tree.root, "--entitled", "2", "--mode", "paravirt"])
    #expect(result.status == 4)
    let host = ModeEngine.localHostName
    #expect(
      result.stdout.contains(
        "  paravirt file     read-only (the series without its write method, patch 16/17)\n"))
    #expect(
      result.stdout.contains(
        "  mode paravirt     no: \(host): mode paravirt needs a writable /sys/devices/system/cpu/paravirt; this kernel's is read-only, as the series publishes it — apply its debug patch 'sysfs: Provide write method for paravirt' (16/17), or use cpuset.\n"
      ), "\(result.stdout)")
  }

  @Test func unfitHostSaysWhyAndExitsFour() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .none)
    defer { tree.remove() }
    let result = ChildProcess.run(
      BuiltBinary.path, ["doctor", "--local", "--root", tree.root, "--entitled", "1"])
    #expect(result.status == 4)
    let host = ModeEngine.localHostName
    #expect(result.stdout.contains("  mode out-of-box   supported\n"))
    #expect(
      result.stdout.contains(
        "  mode hotplug      supported (avoids 1)\n"))
    #expect(
      result.stdout.contains(
        "  mode paravirt     no: \(host): mode paravirt needs /sys/devices/system/cpu/paravirt; this kernel has none — use cpuset, or boot a kernel with the series.\n"
      ))
    #expect(
      result.stdout.contains(
        "  mode cpuset       no: \(host): mode cpuset needs the cpuset controller in /sys/fs/cgroup/cgroup.controllers (or a v1 cpuset mount); this kernel has none — enable cpuset, or use hotplug.\n"
      ))
    #expect(result.stdout.hasSuffix("verdict: \(host) cannot run every mode asked for\n"))
  }

  @Test func checksMatchWhatTheAgentWouldRefuse() throws {
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1)
    defer { tree.remove() }
    let facts = HostFacts.read(paths: tree.paths, kernel: FakeKernelSysfsWriter(paths: tree.paths))
    // cpu0 has no online file in the fake tree, as on most x86 hosts.
    let cpu0 = ModeSupport.check(
      ModeRequest(kind: .hotplug, cpus: .list([0])), host: "h", facts: facts)
    #expect(
      cpu0.problem
        == "h: mode hotplug needs /sys/devices/system/cpu/cpu0/online; this kernel has none — cpu0 cannot be taken offline here; leave it out of the set or use cpuset."
    )
    let noEntitlement = ModeSupport.check(
      ModeRequest(kind: .cpuset, cpus: .nonEntitled), host: "h", facts: facts)
    #expect(
      noEntitlement.problem?.hasPrefix("h: 'non-entitled' needs the host's entitled cores") == true)
    let all = ModeSupport.check(ModeRequest(kind: .cpuset, cpus: .all), host: "h", facts: facts)
    #expect(all.problem == "h: a cpuset without 0-1 would hold no CPU.")
  }

  @Test func unreachableSSHHostIsReportedWithSSHsWords() throws {
    let port = try SSHDFixture.freePort()
    let result = ChildProcess.run(
      BuiltBinary.path, ["doctor", "--ssh", "root@127.0.0.1:\(port)"], timeout: 60)
    #expect(result.status == 4)
    #expect(
      result.stdout.hasPrefix(
        "root@127.0.0.1:\(port) (ssh)\n  reachable         no: root@127.0.0.1: reaching the host failed (ssh root@127.0.0.1, exit 255): "
      ))
    #expect(result.stdout.contains("Connection refused"))
  }
}
