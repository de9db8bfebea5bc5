import Experiments

/// Opens a session to a host of the experiment (local process, ssh, or a booted guest).
package protocol HostConnector: Sendable {
  func connect(_ host: HostSpec) async throws -> any HostSession
  /// The accelerator qemu guests run under (`KVM` or `TCG`), once they are booted; nil
  /// when no guest was booted.
  var accelerator: String? { get }
}

extension HostConnector {
  package var accelerator: String? { nil }
}
