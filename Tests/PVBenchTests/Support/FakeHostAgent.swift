import AgentProtocol
import Controller

extension FakeHostTree {
  /// The transport that starts the built binary's agent on this tree (`agent --root`).
  /// - Parameter environment: extra variables for the agent (the crash injector's step).
  func agentTransport(environment: [String: String] = [:]) -> LocalTransport {
    LocalTransport(
      executable: BuiltBinary.path, agentArguments: ["--root", root], environment: environment)
  }

  /// Starts the built binary's agent on this tree and completes the handshake.
  /// - Throws: `HostError` when the agent cannot start or does not answer.
  func connectAgent(host: String = "local") async throws -> AgentClient {
    try await agentTransport().connect(host: host)
  }
}
