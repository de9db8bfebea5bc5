import Foundation

/// The Debian ppc64el files a pseries guest boots: the kernel and busybox-static, unpacked
/// under `<cache>/ppc64el/root` by `scripts/install-deps --ppc64el`.
///
/// Debian's ppc64el kernel is built with `CONFIG_HVC_CONSOLE=y`, so the pseries machine's
/// `spapr-vty` consoles need no modules (`/dev/hvc0` is the console, `/dev/hvc1` the agent's
/// channel), and without `CONFIG_LPARCFG`, so `/proc/powerpc/lparcfg` does not exist there.
package struct PseriesGuestFiles: Sendable {
  /// The cache root (`ppc64el/root` lives below it).
  package var cacheDirectory: String

  package init(cacheDirectory: String? = nil) {
    self.cacheDirectory = cacheDirectory ?? GuestImageBuilder.defaultCacheDirectory()
  }

  /// The folder the Debian packages are unpacked into.
  package var root: String { cacheDirectory + "/ppc64el/root" }
  /// busybox-static for ppc64el.
  package var busybox: String { root + "/bin/busybox" }

  /// Resolves `auto` (the newest `vmlinux-*` unpacked in the cache) or a path to a ppc64le
  /// kernel image.
  ///
  /// When `auto` finds no kernel or busybox is missing, runs `scripts/install-deps --ppc64el`
  /// from the pvbench sources `executable` was built in (when it is there), which downloads
  /// them, and looks again.
  /// - Throws: `VMError` naming `scripts/install-deps --ppc64el` when the files are still
  ///   missing.
  package func kernel(_ choice: String, executable: String) throws -> GuestKernel {
    let hint =
      "Download Debian's ppc64el kernel and busybox-static with "
      + "'scripts/install-deps --ppc64el' (it adds the ppc64el architecture to dpkg), or give "
      + "a ppc64le kernel image as 'kernel:'."
    func resolve() throws -> GuestKernel {
      try GuestKernel.resolve(
        choice, bootDirectory: root + "/boot", modulesRoot: root + "/lib/modules",
        prefix: "vmlinux-", missingHint: hint)
    }
    let fm = FileManager.default
    if let kernel = try? resolve(), fm.isExecutableFile(atPath: busybox) { return kernel }
    if let script = Self.installScript(nextTo: executable) {
      _ = try? VMShell.run(
        "/usr/bin/env", ["PVBENCH_CACHE_DIR=\(cacheDirectory)", script, "--ppc64el"],
        timeout: .seconds(600))
    }
    guard fm.isExecutableFile(atPath: busybox) else {
      throw VMError("busybox-static for ppc64el is missing at '\(busybox)'. " + hint)
    }
    return try resolve()
  }

  /// `scripts/install-deps` of the pvbench sources holding `executable` (searched upwards from
  /// its folder), or nil for an installed pvbench.
  package static func installScript(nextTo executable: String) -> String? {
    var folder = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
      .deletingLastPathComponent().path
    while !folder.isEmpty && folder != "/" {
      let script = folder + "/scripts/install-deps"
      if FileManager.default.isExecutableFile(atPath: script) { return script }
      folder = (folder as NSString).deletingLastPathComponent
    }
    return nil
  }
}
