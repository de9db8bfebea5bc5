/// A failure to reach or drive one host, in full sentences that name the host.
struct HostError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The host's name in the experiment (or the ssh destination).
  var host: String
  /// The agent's error code when the agent answered with an error.
  var code: AgentError.Code?
  /// What happened and what to do.
  var message: String

  var description: String { "\(host): \(message)" }
}
