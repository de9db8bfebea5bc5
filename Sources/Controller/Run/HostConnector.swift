import Experiments

/// Opens a session to a host of the experiment (local process, ssh, or a booted guest).
package protocol HostConnector: Sendable {
  func connect(_ host: HostSpec) async throws -> any HostSession
}
