/// The experiment keys whose value decides what a local qemu guest boots: a sweep over
/// one of them makes a kernel A/B run, with the guests rebooted between its points.
public enum GuestBootKey {
  /// Whether `keyPath` is `hosts.NAME.qemu.kernel` or `hosts.NAME.qemu.append`.
  public static func matches(_ keyPath: String) -> Bool {
    let parts = keyPath.split(separator: ".")
    return parts.count == 4 && parts[0] == "hosts" && parts[2] == "qemu"
      && (parts[3] == "kernel" || parts[3] == "append")
  }

  /// Whether `keyPath` decides the kernel a host's agent sees: a guest boot key, or
  /// `hosts.NAME.local.root` (a fake kernel tree; the agent reconnects at each change).
  public static func choosesKernel(_ keyPath: String) -> Bool {
    let parts = keyPath.split(separator: ".")
    return matches(keyPath)
      || (parts.count == 4 && parts[0] == "hosts" && parts[2] == "local" && parts[3] == "root")
  }

  /// The host a kernel key names (`vm1` in `hosts.vm1.qemu.kernel`).
  public static func host(of keyPath: String) -> String? {
    let parts = keyPath.split(separator: ".")
    return parts.count == 4 && parts[0] == "hosts" ? String(parts[1]) : nil
  }
}
