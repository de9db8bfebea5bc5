/// How a guest's QEMU process ended.
package enum GuestShutdown: String, Sendable, Equatable {
  /// QEMU exited on its own within the grace period (the guest powered off).
  case poweredOff
  /// QEMU exited after SIGTERM.
  case terminated
  /// QEMU had to be killed with SIGKILL.
  case killed
  /// QEMU had already exited before shutdown was asked for.
  case alreadyExited
}
