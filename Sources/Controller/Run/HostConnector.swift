import Experiments

/// Opens a session to a host of the experiment (local process, ssh, or a booted guest).
package protocol HostConnector: Sendable {
  func connect(_ host: HostSpec) async throws -> any HostSession
  /// The accelerator qemu guests run under (`KVM` or `TCG`), once they are booted; nil
  /// when no guest was booted.
  var accelerator: String? { get }
  /// Whether guests already booted boot differently from what `experiment` (a sweep
  /// point) says, so they must be shut down and booted again before its cells.
  func guestsNeedReboot(for experiment: Experiment) -> Bool
  /// Makes the next guest boot follow `experiment`: its qemu hosts' kernels and command
  /// lines. Guests already booted are not touched; `shutdown` them first.
  func boot(as experiment: Experiment)
  /// Shuts guests down (their consoles copied into `consoleFolder`) and removes the pool.
  func shutdown(consoleFolder: String?)
  /// Rewrites the host pool's cgroup files for `experiment`'s `pool.model` and
  /// `pool.window` (a sweep point) without rebooting the guests.
  /// - Returns: what changed, for the progress log; nil when nothing did.
  func configurePool(for experiment: Experiment) throws -> String?
}

extension HostConnector {
  package var accelerator: String? { nil }
  package func guestsNeedReboot(for experiment: Experiment) -> Bool { false }
  package func boot(as experiment: Experiment) {}
  package func shutdown(consoleFolder: String?) {}
  package func configurePool(for experiment: Experiment) throws -> String? { nil }
}
