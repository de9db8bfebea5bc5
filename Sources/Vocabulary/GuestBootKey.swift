/// The experiment keys whose value decides what a local qemu guest boots: a sweep over
/// one of them makes a kernel A/B run, with the guests rebooted between its points.
public enum GuestBootKey {
  /// Whether `keyPath` is `hosts.NAME.qemu.kernel` or `hosts.NAME.qemu.append`.
  public static func matches(_ keyPath: String) -> Bool {
    let parts = keyPath.split(separator: ".")
    return parts.count == 4 && parts[0] == "hosts" && parts[2] == "qemu"
      && (parts[3] == "kernel" || parts[3] == "append")
  }
}
