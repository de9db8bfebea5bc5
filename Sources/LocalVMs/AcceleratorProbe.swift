import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Decides between KVM and TCG by trying a short KVM boot, and remembers the verdict for the
/// current boot of the host.
///
/// Opening /dev/kvm is not enough: nested KVM on some cloud machines opens fine and then
/// hangs or crashes at guest boot. So the probe boots the guest kernel with a tiny initramfs
/// whose init prints `GuestInit.probeMarker` and powers off; only when that marker shows up
/// within `timeout` is KVM used.
package struct AcceleratorProbe: Sendable {
  /// The verdict and how it was reached.
  package struct Verdict: Sendable, Equatable {
    /// The accelerator to use.
    package var accelerator: QEMUAccelerator
    /// Why, in one sentence (printed as the one-line TCG notice).
    package var reason: String
    /// True when the verdict came from the cache file rather than a fresh probe.
    package var cached: Bool

    /// Memberwise.
    package init(
      accelerator: QEMUAccelerator,
      reason: String,
      cached: Bool
    ) {
      self.accelerator = accelerator
      self.reason = reason
      self.cached = cached
    }
  }

  /// The guest kernel to probe with.
  package var kernel: GuestKernel
  /// busybox for the probe image.
  package var busyboxPath: String = "/bin/busybox"
  /// The cache root (the verdict is kept in `accelerator-<boot id>`).
  package var cacheDirectory: String = GuestImageBuilder.defaultCacheDirectory()
  /// The KVM device.
  package var kvmDevice: String = "/dev/kvm"
  /// How long a KVM boot may take before it counts as hung.
  package var timeout: Duration = .seconds(8)

  /// Returns the accelerator to use, probing at most once per host boot.
  package func verdict() -> Verdict {
    let cacheFile = cacheDirectory + "/accelerator-" + Self.bootID()
    if let text = try? String(contentsOfFile: cacheFile, encoding: .utf8) {
      let parts = text.split(separator: "\t", maxSplits: 1).map(String.init)
      if parts.count == 2, let accelerator = QEMUAccelerator(rawValue: parts[0]) {
        return Verdict(
          accelerator: accelerator,
          reason: parts[1].trimmingCharacters(in: .newlines), cached: true)
      }
    }
    let fresh = probe()
    try? FileManager.default.createDirectory(
      atPath: cacheDirectory, withIntermediateDirectories: true)
    try? "\(fresh.accelerator.rawValue)\t\(fresh.reason)\n".write(
      toFile: cacheFile, atomically: true, encoding: .utf8)
    return fresh
  }

  /// Probes now, without the cache.
  package func probe() -> Verdict {
    let fd = open(kvmDevice, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else {
      return Verdict(
        accelerator: .tcg,
        reason: "\(kvmDevice) cannot be opened (\(String(cString: strerror(errno)))); "
          + "using TCG, which is slower.", cached: false)
    }
    close(fd)
    let image: String
    do {
      image = try probeImage()
    } catch {
      return Verdict(
        accelerator: .tcg, reason: "the KVM probe image could not be built (\(error)); using TCG.",
        cached: false)
    }
    let configuration = QEMUGuestConfiguration(
      name: "kvm-probe", vcpus: 1, memoryMiB: 128, kernelPath: kernel.path, initrdPath: image,
      accelerator: .kvm)
    let guest: QEMUGuest
    do {
      guest = try QEMUGuest.launch(configuration)
    } catch {
      return Verdict(
        accelerator: .tcg, reason: "QEMU could not start a KVM test boot (\(error)); using TCG.",
        cached: false)
    }
    defer { guest.shutdown(grace: .zero) }
    do {
      try guest.waitForConsole(containing: GuestInit.probeMarker, timeout: timeout)
      return Verdict(
        accelerator: .kvm, reason: "a KVM test boot reached user space.", cached: false)
    } catch {
      if !guest.isRunning {
        let log = (try? String(contentsOfFile: guest.qemuLogPath, encoding: .utf8)) ?? ""
        let last = log.split(separator: "\n").last.map(String.init) ?? "no message"
        return Verdict(
          accelerator: .tcg,
          reason: "\(kvmDevice) opens but QEMU died in a KVM test boot (\(last)); "
            + "using TCG, which is slower.", cached: false)
      }
      return Verdict(
        accelerator: .tcg,
        reason: "\(kvmDevice) opens but a KVM test boot did not reach user space within "
          + "\(timeout) (nested KVM often hangs); using TCG, which is slower.", cached: false)
    }
  }

  /// Writes (once) the tiny probe initramfs: busybox, /dev/console and the probe init.
  package func probeImage() throws -> String {
    let folder = cacheDirectory + "/images"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    guard let busybox = FileManager.default.contents(atPath: busyboxPath) else {
      throw VMError("busybox is missing at '\(busyboxPath)'; install busybox-static.")
    }
    var writer = CPIOArchiveWriter()
    writer.addCharacterDevice("dev/console", major: 5, minor: 1, mode: 0o600)
    writer.addFile("bin/busybox", contents: busybox, mode: 0o755)
    writer.addFile("init", contents: Data(GuestInit.probeScript.utf8), mode: 0o755)
    let archive = writer.finish()
    let path =
      folder + "/probe-"
      + GuestImageBuilder.fnv1a64Hex(
        "\(busybox.count)\(GuestInit.probeScript)") + ".cpio"
    if !FileManager.default.fileExists(atPath: path) {
      try archive.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
    return path
  }

  /// The kernel's id of the current boot (a new one after every reboot).
  package static func bootID() -> String {
    let text = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))
    return text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "unknown"
  }

  /// Memberwise.
  package init(
    kernel: GuestKernel,
    busyboxPath: String = "/bin/busybox",
    cacheDirectory: String = GuestImageBuilder.defaultCacheDirectory(),
    kvmDevice: String = "/dev/kvm",
    timeout: Duration = .seconds(8)
  ) {
    self.kernel = kernel
    self.busyboxPath = busyboxPath
    self.cacheDirectory = cacheDirectory
    self.kvmDevice = kvmDevice
    self.timeout = timeout
  }
}
