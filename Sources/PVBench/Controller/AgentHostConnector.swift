import Foundation

/// Connects to each kind of host with the transport its entry in the experiment names.
struct AgentHostConnector: HostConnector {
  /// The pvbench binary agents run (this one, unless a test says otherwise).
  var executable = LocalTransport.currentExecutable

  func connect(_ host: HostSpec) async throws -> any HostSession {
    switch host.transport {
    case .local(let root):
      var transport = LocalTransport(executable: executable)
      if let root {
        // A fake kernel tree; the agent keeps its journal under the same root.
        transport.agentArguments = ["--root", root]
      }
      let client = try await transport.connect(host: host.name)
      return AgentHostSession(
        name: host.name, client: client, transport: "local", entitled: host.entitled)
    case .ssh:
      throw RunError("\(host.name): the ssh transport is not wired into runs yet")
    case .qemu:
      throw RunError("\(host.name): qemu guests are not wired into runs yet")
    }
  }
}
