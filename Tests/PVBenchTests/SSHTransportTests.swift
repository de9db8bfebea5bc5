import AgentProtocol
import Controller
import Experiments
import Foundation
import LinuxHost
import LocalVMs
import PVBenchTestSupport
import Testing

@Suite(.serialized) struct SSHTransportTests {
  func transport(_ sshd: SSHDFixture, root: String) -> SSHTransport {
    var transport = SSHTransport(destination: "pvtest")
    transport.options = sshd.options
    transport.remoteDirectory = sshd.directory + "/remote-cache"
    transport.localBinary = BuiltBinary.path
    transport.agentArguments = ["--root", root]
    transport.controlDirectory = sshd.directory
    return transport
  }

  @Test func agentThroughRealSSHDCopiesBinaryOnceAndRestoresOnClose() async throws {
    // No SFTP subsystem, as on many lab hosts: the binary is streamed over the channel.
    let sshd = try SSHDFixture(sftp: false)
    defer { sshd.stop() }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    let ssh = transport(sshd, root: tree.root)
    defer { ssh.closeMaster() }
    #expect(try ssh.ensureBinary(host: "lpar1") == true)
    #expect(FileManager.default.isExecutableFile(atPath: ssh.remoteBinary))
    #expect(FileManager.default.contentsEqual(atPath: ssh.remoteBinary, andPath: BuiltBinary.path))
    #expect(try ssh.ensureBinary(host: "lpar1") == false)
    let client = try await ssh.connect(host: "lpar1")
    let facts = try #require(HostFacts(json: try await client.request("facts")))
    #expect(facts.cores == [[0, 1], [2, 3]])
    _ = try await client.request("mode.apply", ["mode": "hotplug", "cpus": "2-3"])
    #expect(tree.read("/sys/devices/system/cpu/online") == "0-1\n")
    client.close()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test func sshFailureNamesTheHostAndQuotesSSH() throws {
    let port = try SSHDFixture.freePort()
    var ssh = SSHTransport(destination: "root@127.0.0.1", port: port)
    ssh.options = ["-F", "/dev/null", "-o", "UserKnownHostsFile=/dev/null"]
    ssh.controlDirectory = NSTemporaryDirectory()
    #expect {
      try ssh.ensureBinary(host: "lpar9")
    } throws: { error in
      let text = "\(error)"
      return text.hasPrefix("lpar9: reaching the host failed (ssh root@127.0.0.1, exit 255): ")
        && text.contains("Connection refused")
        && text.hasSuffix("Check that 'ssh root@127.0.0.1' works without a password prompt.")
    }
  }

  /// An sshd whose sessions find a `uname` that answers `-m` with `machine` first on
  /// `PATH`: the remote's architecture, which loopback cannot change otherwise.
  func sshd(reporting machine: String) throws -> SSHDFixture {
    let folder = NSTemporaryDirectory() + "pvbench-uname-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let uname = folder + "/uname"
    try """
    #!/bin/sh
    if [ "$1" = -m ]; then echo \(machine); else exec /usr/bin/uname "$@"; fi

    """.write(toFile: uname, atomically: true, encoding: .utf8)
    chmod(uname, 0o755)
    let sshd = try SSHDFixture(
      sftp: false, environment: ["PATH": "\(folder):/usr/local/bin:/usr/bin:/bin"])
    // The fixture's folder goes with it; this one is small and stays in the temporary folder.
    return sshd
  }

  @Test func aPpc64leHostGetsThePortableAgentCopiedOnceWithNoOverride() async throws {
    let sshd = try sshd(reporting: "ppc64le")
    defer { sshd.stop() }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    var ssh = transport(sshd, root: tree.root)
    ssh.hostKey = "lpar1"
    defer { ssh.closeMaster() }
    let built = try PortableAgent.locate(architecture: "ppc64le", nextTo: BuiltBinary.path)
    let hash = try PortableAgent.contentHash(of: built)
    let agent = try ssh.prepareAgent(host: "lpar1")
    let expectedPath = "\(ssh.remoteDirectory)/pvbench-agent-ppc64le-\(hash)"
    #expect(
      agent
        == SSHTransport.RemoteAgent(
          kind: .portable(architecture: "ppc64le"), path: expectedPath, copied: true))
    #expect("\(agent)" == "portable (C) ppc64le, copied to \(expectedPath)")
    #expect(FileManager.default.contentsEqual(atPath: expectedPath, andPath: built))
    #expect(ELFArchitecture.of(expectedPath) == "ppc64le")
    #expect(!FileManager.default.fileExists(atPath: ssh.remoteBinary))
    // Versioned by content: the second run finds it and copies nothing.
    #expect(try ssh.prepareAgent(host: "lpar1").copied == false)

    // Running it: with binfmt_misc's qemu-ppc64le registered, the copy runs as it is;
    // without (this machine), through qemu-ppc64le-static, given as the override.
    if !FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-ppc64le") {
      let emulator = try #require(
        Executables.find("qemu-ppc64le-static"), "qemu-user-static is not installed")
      let wrapper = sshd.directory + "/pvbench-ppc64le"
      try "#!/bin/sh\nexec \(emulator) \(expectedPath) \"$@\"\n".write(
        toFile: wrapper, atomically: true, encoding: .utf8)
      chmod(wrapper, 0o755)
      ssh.remotePvbench = wrapper
    }
    let (client, used) = try await ssh.connectAgent(host: "lpar1")
    #expect(used.kind == .portable(architecture: "ppc64le"))
    #expect(used.copied == false)
    let facts = try #require(HostFacts(json: try await client.request("facts")))
    #expect(facts.cores == [[0, 1], [2, 3]])
    var findings = await HostDoctor().examine(
      client: client, host: "lpar1", transport: "ssh", modes: [])
    findings.agent = used.description
    #expect(findings.description.contains("\n  agent             \(used)\n"))
    // The release agent writes the CPUs' files; the fake tree has no kernel to update
    // `online` from them (the testing build models that).
    _ = try await client.request("mode.apply", ["mode": "hotplug", "cpus": "2-3"])
    #expect(tree.read("/sys/devices/system/cpu/cpu2/online") == "0\n")
    #expect(tree.read("/sys/devices/system/cpu/cpu3/online") == "0\n")
    client.close()
    #expect(FakeHostTree.differences(tree.snapshot(), before) == [])
  }

  @Test func aMissingPortableAgentNamesBuildAgents() throws {
    let sshd = try sshd(reporting: "s390x")
    defer { sshd.stop() }
    // A controller binary with no agents beside it or above it: an x86-64 ELF header.
    let folder = URL(fileURLWithPath: sshd.directory).resolvingSymlinksInPath().path + "/bin"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var header = [UInt8](repeating: 0, count: 64)
    header[0...5] = [0x7F, 0x45, 0x4C, 0x46, 2, 1]
    header[18] = 62
    try Data(header).write(to: URL(fileURLWithPath: folder + "/pvbench"))
    var ssh = transport(sshd, root: "/")
    ssh.localBinary = folder + "/pvbench"
    ssh.hostKey = "z1"
    defer { ssh.closeMaster() }
    #expect {
      try ssh.ensureBinary(host: "z1")
    } throws: { error in
      "\(error)"
        == "z1: the host is s390x (uname -m), which gets the portable agent: No portable agent for s390x was found (looked for \(folder)/pvbench-agent-s390x, and for .build-agents/s390x/pvbench-agent in \(folder) and every folder above it). Build it with 'scripts/build-agents s390x' in the pvbench sources, or put it next to pvbench as pvbench-agent-s390x. Or give a pvbench on the host as 'hosts.z1.ssh.pvbench: PATH'."
    }
    #expect(!FileManager.default.fileExists(atPath: ssh.remoteDirectory))
  }

  @Test func aMachineNoAgentServesIsRefusedBeforeCopying() throws {
    let sshd = try sshd(reporting: "riscv64")
    defer { sshd.stop() }
    var ssh = transport(sshd, root: "/")
    ssh.hostKey = "rv1"
    defer { ssh.closeMaster() }
    let local = try #require(ELFArchitecture.of(BuiltBinary.path))
    #expect {
      try ssh.ensureBinary(host: "rv1")
    } throws: { error in
      "\(error)"
        == "rv1: the host is riscv64 (uname -m), and neither this pvbench (built for \(local)) nor the portable agent (built for x86_64, ppc64le, s390x, aarch64) runs there; build the portable agent for it from agent/ and give its path on the host as 'hosts.rv1.ssh.pvbench: PATH' in the experiment file."
    }
    #expect(!FileManager.default.fileExists(atPath: ssh.remoteDirectory))
  }

  @Test func aPvbenchGivenOnTheRemoteIsUsedAsItIs() async throws {
    let sshd = try SSHDFixture(sftp: false)
    defer { sshd.stop() }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 1)
    defer { tree.remove() }
    var ssh = transport(sshd, root: tree.root)
    ssh.remotePvbench = BuiltBinary.path
    ssh.hostKey = "lpar2"
    defer { ssh.closeMaster() }
    #expect(try ssh.ensureBinary(host: "lpar2") == false)
    #expect(!FileManager.default.fileExists(atPath: ssh.remoteBinary))
    let client = try await ssh.connect(host: "lpar2")
    #expect(try await client.request("ping")["pong"] == true)
    client.close()
    ssh.remotePvbench = "/nonexistent/pvbench"
    #expect {
      try ssh.ensureBinary(host: "lpar2")
    } throws: { error in
      "\(error)"
        == "lpar2: the pvbench at /nonexistent/pvbench on the remote answers 'nothing' to --version, not \(PVBenchVersion.current); install pvbench \(PVBenchVersion.current) there, or remove 'hosts.lpar2.ssh.pvbench' to have this one copied."
    }
  }
}
