import AgentProtocol

/// A failure to reach or drive one host, in full sentences that name the host.
package struct HostError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The host's name in the experiment (or the ssh destination).
  package var host: String
  /// The agent's error code when the agent answered with an error.
  package var code: AgentError.Code?
  /// What happened and what to do.
  package var message: String

  package var description: String { "\(host): \(message)" }
}
