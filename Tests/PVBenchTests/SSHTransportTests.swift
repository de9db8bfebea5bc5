import Controller
import Experiments
import Foundation
import LinuxHost
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
    let sshd = try SSHDFixture()
    defer { sshd.stop() }
    let tree = try FakeHostTree(cores: 2, threadsPerCore: 2)
    defer { tree.remove() }
    let before = tree.snapshot()
    let ssh = transport(sshd, root: tree.root)
    defer { ssh.closeMaster() }
    #expect(try ssh.ensureBinary(host: "lpar1") == true)
    #expect(FileManager.default.isExecutableFile(atPath: ssh.remoteBinary))
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
}
