/// The kernel a host ran for some of a run's cells: one per host and boot configuration
/// when a sweep changes what local guests boot (`hosts.NAME.qemu.kernel` or `.append`).
public struct KernelRecord: Codable, Sendable, Equatable {
  /// The host.
  public var host: String
  /// The swept boot keys and their values at this configuration
  /// (`hosts.vm1.qemu.append` → `mitigations=off`); the cells whose point has these
  /// values ran this kernel.
  public var point: [String: String]
  /// `uname -r` in the guest.
  public var kernelRelease: String
  /// `/proc/cmdline` in the guest.
  public var kernelCmdline: String

  public init(host: String, point: [String: String], kernelRelease: String, kernelCmdline: String) {
    self.host = host
    self.point = point
    self.kernelRelease = kernelRelease
    self.kernelCmdline = kernelCmdline
  }
}
