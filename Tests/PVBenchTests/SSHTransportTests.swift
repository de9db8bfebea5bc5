import AgentProtocol
import Controller
import Experiments
import Foundation
import LinuxHost
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

  @Test func aBinaryForAnotherArchitectureIsRefusedBeforeCopying() throws {
    let sshd = try SSHDFixture(sftp: false)
    defer { sshd.stop() }
    // An ELF header for ppc64le (little-endian, e_machine 21), as a PowerVM LPAR needs.
    var header = [UInt8](repeating: 0, count: 64)
    header[0...5] = [0x7F, 0x45, 0x4C, 0x46, 2, 1]
    header[18] = 21
    let binary = sshd.directory + "/pvbench-ppc64le"
    try Data(header).write(to: URL(fileURLWithPath: binary))
    var ssh = transport(sshd, root: "/")
    ssh.localBinary = binary
    ssh.hostKey = "lpar1"
    defer { ssh.closeMaster() }
    let machine = try CLI.shell("uname -m")
    #expect {
      try ssh.ensureBinary(host: "lpar1")
    } throws: { error in
      "\(error)"
        == "lpar1: the host is \(machine) (uname -m) but this pvbench is built for ppc64le, so it cannot run there; build pvbench \(PVBenchVersion.current) on a \(machine) machine (swift build -c release --static-swift-stdlib), copy it to the host and give its path as 'hosts.lpar1.ssh.pvbench: PATH' in the experiment file."
    }
    #expect(!FileManager.default.fileExists(atPath: ssh.remoteBinary))
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
