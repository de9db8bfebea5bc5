import AgentProtocol
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import Results
import Testing
import Vocabulary
import Workloads

/// Real QEMU (TCG) boots of the guest kernel; each boot is bounded by a timeout and every
/// test checks that no QEMU process, folder or registry entry remains.
@Suite(.serialized, .enabled(if: VMTestSupport.canBoot, "needs qemu-system-x86, a kernel, busybox"))
struct VMGuestTests {
  @Test func qemuArgumentsCarryTheChannelConsoleAndAccelerator() {
    let configuration = QEMUGuestConfiguration(
      name: "g1", vcpus: 4, memoryMiB: 512, kernelPath: "/k", initrdPath: "/i", accelerator: .tcg)
    let args = configuration.arguments(directory: "/t")
    let line = args.joined(separator: " ")
    #expect(line.contains("-smp 4,maxcpus=4 -m 512M -kernel /k -initrd /i"))
    #expect(line.contains("-append console=ttyS0 quiet panic=-1 rdinit=/init"))
    #expect(line.contains("socket,id=agent,path=/t/agent.sock,server=on,wait=off"))
    #expect(line.contains("virtserialport,bus=vser0.0,chardev=agent,name=org.pvbench.agent"))
    #expect(line.contains("-accel tcg"))
    #expect(args.contains("-no-reboot") && args.contains("-nodefaults"))
    var serial = configuration
    serial.channel = .serial
    #expect(
      serial.arguments(directory: "/t").joined(separator: " ").contains("-serial chardev:agent"))
  }

  @Test(arguments: [
    ("CPU 0/TCG", 0), ("CPU 12/KVM", 12), ("qemu-system-x86", nil), ("CPU 1/XYZ", nil),
  ])
  func vcpuThreadNames(name: String, index: Int?) {
    #expect(QEMUGuest.vcpuIndex(threadName: name) == index)
  }

  @Test func consoleControlsAreStripped() {
    let raw = "\u{1B}c\u{1B}[?7l\u{1B}[2J\u{1B}[0mSeaBIOS\r\nBooting\n"
    #expect(QEMUGuest.stripTerminalControls(raw) == "SeaBIOS\n\nBooting\n")
  }

  @Test func guestBootsToAgentHelloOverVirtioSerialAndLeavesNothing() throws {
    let folder = try VMTestSupport.temporaryFolder("boot")
    defer { VMTestSupport.remove(folder) }
    let guest = try VMTestSupport.bootImage(.fake, in: folder).launch(
      "hello", vcpus: 2, memoryMiB: 256, in: folder)
    let directory = guest.directory
    let pid = guest.pid
    #expect(QEMUGuestRegistry.shared.pids.contains(pid))
    let (fd, hello) = try guest.waitForAgent(timeout: .seconds(90))
    #expect(hello == #"{"event":"hello","agent":"fake","device":"/dev/vport0p1"}"#)
    // The hello was only peeked at: the channel still starts with it.
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, buffer.count)
    #expect(String(decoding: buffer[0..<max(0, count)], as: UTF8.self) == hello + "\n")
    #expect(guest.consoleText().contains("\(GuestInit.startMarker) /dev/vport0p1"))
    let threads = guest.vcpuThreads()
    #expect(threads.map(\.index) == [0, 1])
    let steal = HostSideSteal(pid: pid, threads: threads)
    usleep(300_000)
    let sample = steal.sample()
    #expect(sample.perVCPU.count == 2)
    #expect(sample.perVCPU.allSatisfy { $0 != nil && $0! >= 0 && $0! <= 100 })
    let console = folder + "/console-copy.log"
    let outcome = guest.shutdown(grace: .milliseconds(500), keepConsoleAt: console)
    #expect(outcome == .terminated)
    #expect(try String(contentsOfFile: console, encoding: .utf8).contains(GuestInit.startMarker))
    #expect(!FileManager.default.fileExists(atPath: directory))
    #expect(kill(pid, 0) != 0)
    #expect(!QEMUGuestRegistry.shared.pids.contains(pid))
    #expect(VMTestSupport.qemuProcesses(mentioning: directory).isEmpty)
    #expect(guest.shutdown() == .alreadyExited)
  }

  @Test func realImageBootsToTheRealAgentsHello() throws {
    let folder = try VMTestSupport.temporaryFolder("real")
    defer { VMTestSupport.remove(folder) }
    let boot = try VMTestSupport.bootImage(.pvbench, in: folder)
    let guest = try boot.launch("real", vcpus: 2, memoryMiB: 512, in: folder)
    defer { guest.shutdown(grace: .seconds(3)) }
    let (_, hello) = try guest.waitForAgent(timeout: .seconds(120))
    #expect(hello.contains(#""event":"hello""#))
    #expect(hello.contains(#""version":"\#(PVBenchVersion.current)""#))
    let console = guest.consoleText()
    #expect(
      console.contains(
        "pvbench-init: mounted proc, sys, dev, cgroup v2; kernel \(boot.kernel.release), 2 CPUs"))
    #expect(console.contains("\(GuestInit.startMarker) /dev/vport0p1"))
    #expect(!console.contains("insmod"))
    let directory = guest.directory
    // Closing the channel makes the agent exit, init power off, and QEMU end by itself.
    #expect(guest.shutdown(grace: .seconds(20)) == .poweredOff)
    #expect(!FileManager.default.fileExists(atPath: directory))
    #expect(VMTestSupport.qemuProcesses(mentioning: directory).isEmpty)
  }

  @Test func bootTimeoutQuotesTheConsoleAndKillsQEMU() throws {
    let folder = try VMTestSupport.temporaryFolder("timeout")
    defer { VMTestSupport.remove(folder) }
    let guest = try VMTestSupport.bootImage(.fake, in: folder).launch(
      "slow", vcpus: 1, memoryMiB: 128, in: folder)
    let error = try #require(throws: VMError.self) {
      try guest.waitForAgent(timeout: .milliseconds(300))
    }
    #expect(
      error.description.hasPrefix(
        "Guest slow (QEMU pid \(guest.pid), tcg) did not say hello within 0.3 seconds."))
    #expect(
      error.description.hasSuffix("Check the kernel (--kernel) and the memory, or raise --timeout.")
    )
    let directory = guest.directory
    #expect(guest.shutdown(grace: .zero) == .terminated)
    #expect(VMTestSupport.qemuProcesses(mentioning: directory).isEmpty)
  }

  @Test func tooLittleMemoryIsRefusedBeforeLaunch() throws {
    let folder = try VMTestSupport.temporaryFolder("mem")
    defer { VMTestSupport.remove(folder) }
    let initrd = folder + "/big.cpio"
    try Data(count: 200 << 20).write(to: URL(fileURLWithPath: initrd))
    #expect(
      throws: VMError(
        "Guest tiny: 256 MiB of memory is too little for a 200 MiB image; give it at least 496 MiB."
      )
    ) {
      try QEMUGuest.launch(
        QEMUGuestConfiguration(
          name: "tiny", vcpus: 1, memoryMiB: 256, kernelPath: "/k", initrdPath: initrd,
          accelerator: .tcg),
        temporaryRoot: folder)
    }
  }

  @Test func probeWithoutKvmDeviceChoosesTCGAndCachesTheVerdict() throws {
    let folder = try VMTestSupport.temporaryFolder("probe")
    defer { VMTestSupport.remove(folder) }
    let probe = AcceleratorProbe(
      kernel: try VMTestSupport.kernel(), cacheDirectory: folder, kvmDevice: folder + "/kvm")
    let first = probe.verdict()
    #expect(first.accelerator == .tcg)
    #expect(
      first.reason
        == "\(folder)/kvm cannot be opened (No such file or directory); using TCG, which is slower."
    )
    #expect(!first.cached)
    let second = probe.verdict()
    #expect(
      second == AcceleratorProbe.Verdict(accelerator: .tcg, reason: first.reason, cached: true))
  }

  @Test(.enabled(if: FileManager.default.isWritableFile(atPath: "/dev/kvm")))
  func kvmProbeEndsWithinItsTimeoutAndLeavesNoQEMU() throws {
    let folder = try VMTestSupport.temporaryFolder("kvmprobe")
    defer { VMTestSupport.remove(folder) }
    let probe = AcceleratorProbe(
      kernel: try VMTestSupport.kernel(), cacheDirectory: folder, timeout: .seconds(4))
    let started = ContinuousClock.now
    let verdict = probe.probe()
    #expect(ContinuousClock.now - started < .seconds(20))
    #expect(VMTestSupport.qemuProcesses(mentioning: "pvbench-kvm-probe").isEmpty)
    #expect(
      verdict.accelerator == .kvm
        ? verdict.reason == "a KVM test boot reached user space."
        : verdict.reason.contains("did not reach user space within 4.0 seconds")
          || verdict.reason.contains("QEMU died in a KVM test boot"))
  }
}

/// Two real guests confined by a `HostPool` to one host CPU: the measure guest's host-side
/// steal is high while the noise guest runs and low while it is stopped.
@Suite(.serialized, .needsHostPool)
struct VMPoolStealTests {
  @Test func hostSideStealFollowsTheNoiseGuestInASharedPool() throws {
    let folder = try VMTestSupport.temporaryFolder("pool")
    defer { VMTestSupport.remove(folder) }
    let boot = try VMTestSupport.bootImage(.spinning, in: folder)
    func launch(_ name: String) throws -> QEMUGuest {
      try boot.launch(name, vcpus: 1, memoryMiB: 128, in: folder)
    }
    let measure = try launch("measure")
    defer { measure.shutdown(grace: .zero) }
    let noise = try launch("noise")
    defer {
      kill(noise.pid, SIGCONT)
      noise.shutdown(grace: .zero)
    }
    _ = try measure.waitForAgent(timeout: .seconds(120))
    _ = try noise.waitForAgent(timeout: .seconds(120))
    let cpu = HostPool.onlineCPUs().last ?? 0
    let pool = HostPool(cpus: [cpu])
    defer { pool.close() }
    // A large weight for both guests, so the other jobs on this shared build machine barely
    // count next to them and the difference comes from the noise guest alone.
    try pool.add(guest: "measure", pid: measure.pid, entitledCPUs: 32)
    try pool.add(guest: "noise", pid: noise.pid, entitledCPUs: 32)
    let cgroups = pool.guests.compactMap(\.cgroup)
    #expect(cgroups.count == 2)
    let steal = HostSideSteal(pid: measure.pid, threads: measure.vcpuThreads())
    #expect(steal.threads.count == 1)
    usleep(2_000_000)
    let busy = try #require(steal.sample().mean)
    kill(noise.pid, SIGSTOP)
    _ = steal.sample()  // Drop the edge.
    usleep(2_000_000)
    let idle = try #require(steal.sample().mean)
    kill(noise.pid, SIGCONT)
    print("host-side steal of the measure guest: noise running \(busy) %, stopped \(idle) %")
    #expect(busy > idle + 15, "busy \(busy) %, idle \(idle) %")
    #expect(busy > 25)
    pool.close()
    for cgroup in cgroups {
      #expect(!FileManager.default.fileExists(atPath: cgroup))
    }
  }
}

@Suite(.serialized, .needsHostPool)
struct VMLocalGuestsTests {
  @Test func twoGuestsBootIntoOnePoolAndLeaveNothing() throws {
    let folder = try VMTestSupport.temporaryFolder("local")
    defer { VMTestSupport.remove(folder) }
    let guests = try LocalGuests.boot(
      [
        GuestRequest(name: "lpar1", vcpus: 2, memoryMiB: 128, entitledCPUs: 1),
        GuestRequest(name: "lpar2", vcpus: 1, memoryMiB: 128, entitledCPUs: 0.5, capped: true),
      ],
      poolCPUs: HostPool.onlineCPUs(), poolSettings: .init(model: .entitled), accelerator: .tcg,
      binaryPath: try VMTestSupport.fakeAgent(in: folder), cacheDirectory: folder + "/cache",
      timeout: .seconds(120))
    #expect(guests.channels.map(\.hello).allSatisfy { $0.contains(#""event":"hello""#) })
    #expect(guests.guests.map { $0.vcpuThreads().count } == [2, 1])
    let members = guests.pool.guests
    #expect(members.map(\.weight) == [1024, 512])
    let cgroups = members.compactMap(\.cgroup)
    #expect(cgroups.count == 2)
    // pool.model entitled (asked for here; the default is dispatch, VMHostPoolTests): lpar1's vCPU 1 runs on spare cycles only, in the
    // real `spare` child of its cgroup; lpar2 has no non-entitled vCPU.
    let spare = try #require(members[0].spareCgroup)
    #expect(spare == cgroups[0] + "/spare")
    #expect(members[1].spareCgroup == nil)
    let vcpu1 = try #require(guests.guests[0].vcpuThreads().first { $0.index == 1 })
    #expect(members[0].spareThreads == [vcpu1])
    #expect(try String(contentsOfFile: spare + "/cpu.shares", encoding: .utf8) == "2\n")
    #expect(try String(contentsOfFile: spare + "/tasks", encoding: .utf8) == "\(vcpu1.tid)\n")
    let vcpu0 = try #require(guests.guests[0].vcpuThreads().first { $0.index == 0 })
    let vcpu0Tasks = try String(contentsOfFile: cgroups[0] + "/tasks", encoding: .utf8)
    #expect(vcpu0Tasks.split(separator: "\n").contains("\(vcpu0.tid)"))
    #expect(!vcpu0Tasks.split(separator: "\n").contains("\(vcpu1.tid)"))
    let directories = guests.guests.map(\.directory)
    guests.shutdown(grace: .zero, consoleFolder: folder)
    #expect(
      try String(contentsOfFile: folder + "/lpar2.console.log", encoding: .utf8)
        .contains(GuestInit.startMarker))
    for path in cgroups + directories {
      #expect(!FileManager.default.fileExists(atPath: path))
    }
    for directory in directories {
      #expect(VMTestSupport.qemuProcesses(mentioning: directory).isEmpty)
    }
  }

  @Test func aFailingGuestStopsTheOthers() throws {
    let folder = try VMTestSupport.temporaryFolder("fail")
    defer { VMTestSupport.remove(folder) }
    let error = try #require(throws: VMError.self) {
      try LocalGuests.boot(
        [
          GuestRequest(name: "ok", vcpus: 1, memoryMiB: 128, entitledCPUs: 1),
          GuestRequest(name: "small", vcpus: 1, memoryMiB: 1, entitledCPUs: 1),
        ],
        poolCPUs: HostPool.onlineCPUs(), accelerator: .tcg,
        binaryPath: try VMTestSupport.fakeAgent(in: folder), cacheDirectory: folder + "/cache")
    }
    #expect(error.description.hasPrefix("Guest small: 1 MiB of memory is too little"))
    #expect(VMTestSupport.qemuProcesses(mentioning: "pvbench-vm-\(getpid())-ok").isEmpty)
  }
}

/// A real guest wired to the hosts branch's `AgentClient` over the virtio-serial socket.
@Suite(.serialized, .enabled(if: VMTestSupport.canBoot, "needs qemu-system-x86, a kernel, busybox"))
struct VMAgentClientTests {
  @Test func agentClientTalksToTheGuestAgent() async throws {
    let folder = try VMTestSupport.temporaryFolder("client")
    defer { VMTestSupport.remove(folder) }
    let guest = try VMTestSupport.bootImage(.pvbench, in: folder).launch(
      "client", vcpus: 2, memoryMiB: 512, in: folder)
    defer { guest.shutdown(grace: .zero) }
    let (fd, _) = try guest.waitForAgent(timeout: .seconds(120))
    let client = VMTestSupport.client("client", of: guest, fd: fd)
    _ = try await client.handshake(timeout: .seconds(30))
    #expect(client.helloEvent["event"]?.stringValue == "hello")
    let pong = try await client.request("ping", timeout: .seconds(30))
    #expect(pong["pong"]?.boolValue == true)
    do {
      let facts = try await client.request("facts", timeout: .seconds(60))
      #expect(facts["cpus_online"]?.stringValue == "0-1")
      // The guest offers what the measure guest's modes need: CPU hotplug and a cpuset
      // controller on the cgroup2 mount made by init.
      let interfaces = facts["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? []
      #expect(interfaces.contains("hotplug") && interfaces.contains("cpuset"), "\(interfaces)")
      #expect(facts["cgroup_version"]?.stringValue == "v2")
    } catch {
      let tail = guest.consoleTail(30).joined(separator: "\n")
      Issue.record("facts failed: \(error)\n\(tail)")
    }
    client.close()
    let directory = guest.directory
    // End of file on the port: the agent exits, init powers off, QEMU ends by itself.
    #expect(guest.shutdown(grace: .seconds(20)) == .poweredOff)
    #expect(VMTestSupport.qemuProcesses(mentioning: directory).isEmpty)
  }
}
