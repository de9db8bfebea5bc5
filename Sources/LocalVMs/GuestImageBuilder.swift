import Foundation
import Vocabulary

/// Builds (or finds in the cache) the initramfs a pvbench guest boots.
///
/// The image holds busybox (with its applet links), this pvbench binary at `/bin/pvbench`
/// with every shared library `ldd` lists copied at the same path (plus the ELF loader), the
/// channel's kernel modules of the chosen kernel (decompressed when the distribution ships
/// `.ko.xz`, `.ko.zst` or `.ko.gz`), a `/dev/console` node and the `/init` of `GuestInit`.
/// Images are cached under `<cache>/images/<hash>/`, keyed by a hash of every input.
package struct GuestImageBuilder: Sendable {
  /// The modules the virtio-serial channel needs, in insmod order.
  package static let channelModules = [
    "virtio_ring", "virtio", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci",
    "virtio_console",
  ]
  /// Bumped whenever the image layout changes, so old cache entries are not reused.
  package static let formatVersion = 1

  /// The kernel the image is for.
  package var kernel: GuestKernel
  /// The pvbench binary to embed (default: the running one).
  package var binaryPath: String
  /// The busybox to embed; it should be static (Debian `busybox-static`).
  package var busyboxPath: String
  /// The cache root (`images/` lives below it).
  package var cacheDirectory: String
  /// Gzip the archive (smaller file, slower to build and to unpack under TCG).
  package var compress: Bool
  /// Strip symbols from the pvbench binary and the libraries (`strip --strip-unneeded`, when
  /// binutils is installed): a smaller image boots sooner under TCG.
  package var strip: Bool
  /// The guest's machine. For ppc64le, `binaryPath` is the portable agent and `busyboxPath`
  /// Debian's ppc64el busybox-static (both static, so no `ldd`); busybox's applet links are
  /// made by init, since the ppc64el busybox cannot list them here; no modules are needed
  /// (the hvc console driver is built in).
  package var architecture: GuestArchitecture = .x86_64

  /// Creates a builder.
  /// - Parameters:
  ///   - kernel: the guest kernel.
  ///   - binaryPath: pvbench binary to embed; nil means the running executable.
  ///   - busyboxPath: busybox binary, `/bin/busybox` by default.
  ///   - cacheDirectory: cache root; nil means `GuestImageBuilder.defaultCacheDirectory()`.
  ///   - compress: gzip the archive.
  ///   - strip: strip the binary and libraries copied into the image.
  package init(
    kernel: GuestKernel, binaryPath: String? = nil, busyboxPath: String = "/bin/busybox",
    cacheDirectory: String? = nil, compress: Bool = false, strip: Bool = true
  ) {
    self.strip = strip
    self.kernel = kernel
    self.binaryPath = binaryPath ?? Self.runningExecutable()
    self.busyboxPath = busyboxPath
    self.cacheDirectory = cacheDirectory ?? Self.defaultCacheDirectory()
    self.compress = compress
  }

  /// `$PVBENCH_CACHE_DIR`, else `$XDG_CACHE_HOME/pvbench`, else `~/.cache/pvbench`.
  package static func defaultCacheDirectory() -> String {
    let env = ProcessInfo.processInfo.environment
    if let dir = env["PVBENCH_CACHE_DIR"], !dir.isEmpty { return dir }
    if let xdg = env["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/pvbench" }
    let home = env["HOME"] ?? NSHomeDirectory()
    return home + "/.cache/pvbench"
  }

  /// The resolved path of the running executable.
  package static func runningExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
  }

  /// One file to copy into the image.
  package struct Input: Sendable, Equatable {
    /// Absolute path inside the guest.
    package var guestPath: String
    /// The file on the host (symlinks followed).
    package var hostPath: String
    /// Permission bits.
    package var mode: UInt32
  }

  /// Returns the cached image for these inputs, building it first when missing.
  /// - Throws: `VMError` when an input is missing or unreadable, `ldd` reports a library
  ///   not found, or the cache cannot be written.
  package func build() throws -> GuestImage {
    let started = ContinuousClock.now
    let plan = try makePlan()
    let folder = cacheDirectory + "/images/" + plan.hash
    let name = compress ? "initramfs.cpio.gz" : "initramfs.cpio"
    let imagePath = folder + "/" + name
    let recordPath = folder + "/image.json"
    let fm = FileManager.default
    if fm.fileExists(atPath: imagePath), let data = fm.contents(atPath: recordPath),
      var image = try? JSONDecoder().decode(GuestImage.self, from: data)
    {
      image.cached = true
      image.buildSeconds = Self.seconds(ContinuousClock.now - started)
      return image
    }
    do {
      try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
      throw VMError(
        "Cannot create the image cache folder '\(folder)': \(error.localizedDescription). "
          + "Set PVBENCH_CACHE_DIR to a writable folder.")
    }
    var writer = CPIOArchiveWriter()
    for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "run", "root"] {
      writer.addDirectory(dir)
    }
    writer.addCharacterDevice("dev/console", major: 5, minor: 1, mode: 0o600)
    let stripName = architecture == .ppc64le ? "powerpc64le-linux-gnu-strip" : "strip"
    let stripTool = strip ? VMShell.which(stripName) : nil
    for input in plan.inputs {
      guard var data = FileManager.default.contents(atPath: input.hostPath) else {
        throw VMError("Cannot read '\(input.hostPath)' while building the guest image.")
      }
      if let stripTool, input.guestPath != "/bin/busybox", !input.guestPath.hasSuffix(".ko"),
        data.starts(with: [0x7F, 0x45, 0x4C, 0x46])
      {
        data = try Self.stripped(data: data, of: input.hostPath, tool: stripTool, in: folder)
      }
      writer.addFile(input.guestPath, contents: data, mode: input.mode)
    }
    for link in plan.busyboxLinks where !writer.paths.contains(link) {
      writer.addSymlink(link, target: "/bin/busybox")
    }
    writer.addFile("init", contents: Data(plan.initScript.utf8), mode: 0o755)
    let archive = writer.finish()
    let temporary = folder + "/.initramfs.\(getpid()).tmp"
    guard fm.createFile(atPath: temporary, contents: archive) else {
      throw VMError("Cannot write '\(temporary)'. Check the free space and permissions.")
    }
    if compress {
      let gz = try VMShell.run("/bin/gzip", ["-1", "-f", "-n", temporary])
      guard gz.status == 0 else {
        throw VMError("gzip failed on '\(temporary)': \(gz.stderr)")
      }
      try? fm.removeItem(atPath: imagePath)
      try fm.moveItem(atPath: temporary + ".gz", toPath: imagePath)
    } else {
      try? fm.removeItem(atPath: imagePath)
      try fm.moveItem(atPath: temporary, toPath: imagePath)
    }
    let size = (try? fm.attributesOfItem(atPath: imagePath)[.size] as? Int) ?? 0
    var image = GuestImage(
      path: imagePath, kernelPath: kernel.path, kernelRelease: kernel.release, sizeBytes: size,
      hash: plan.hash, modules: plan.modules, skippedModules: plan.skippedModules,
      files: writer.paths + ["init"], cached: false, buildSeconds: 0)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(image).write(to: URL(fileURLWithPath: recordPath), options: .atomic)
    image.buildSeconds = Self.seconds(ContinuousClock.now - started)
    return image
  }

  /// What an image would contain, and its cache key.
  package struct Plan: Sendable {
    package var inputs: [Input]
    package var busyboxLinks: [String]
    package var modules: [String]
    package var skippedModules: [String]
    package var initScript: String
    package var hash: String
  }

  /// Collects the inputs (running `ldd` and reading `modules.dep`) without writing anything.
  /// - Throws: `VMError` for a missing binary, busybox or library.
  package func makePlan() throws -> Plan {
    let fm = FileManager.default
    guard fm.isReadableFile(atPath: binaryPath) else {
      throw VMError("The pvbench binary '\(binaryPath)' is not readable; build it first.")
    }
    guard fm.isReadableFile(atPath: busyboxPath) else {
      throw VMError(
        "busybox is missing at '\(busyboxPath)'. Install it with "
          + "'apt-get install busybox-static'.")
    }
    var inputs: [Input] = [
      Input(guestPath: "/bin/busybox", hostPath: resolved(busyboxPath), mode: 0o755),
      Input(guestPath: "/bin/pvbench", hostPath: resolved(binaryPath), mode: 0o755),
    ]
    let foreign = architecture != .x86_64
    var libraries: [String] = []
    let linked =
      foreign
      ? [] : try Self.sharedLibraries(of: busyboxPath) + Self.sharedLibraries(of: binaryPath)
    for path in linked where !libraries.contains(path) {
      libraries.append(path)
    }
    for library in libraries {
      inputs.append(Input(guestPath: library, hostPath: resolved(library), mode: 0o755))
    }
    var links: [String] = []
    if !foreign {
      let listing = try VMShell.run(busyboxPath, ["--list-full"])
      links = String(decoding: listing.stdout, as: UTF8.self)
        .split(separator: "\n").map(String.init)
        .filter { !$0.isEmpty && $0 != "bin/busybox" }
    }
    let modules: (found: [ModuleFile], skipped: [String]) =
      foreign ? (found: [], skipped: []) : try channelModuleFiles()
    for module in modules.found {
      inputs.append(
        Input(
          guestPath: "/\(GuestInit.moduleFolder)/\(module.name).ko", hostPath: module.path,
          mode: 0o644))
    }
    let libraryFolders = libraries.map { ($0 as NSString).deletingLastPathComponent }
    var folders: [String] = []
    for folder in libraryFolders where !folders.contains(folder) { folders.append(folder) }
    let script = GuestInit.script(
      modules: modules.found.map(\.name), libraryPath: folders.isEmpty ? ["/lib"] : folders,
      installApplets: foreign)
    var key = "pvbench-image v\(Self.formatVersion) compress=\(compress) strip=\(strip)\n"
    if foreign { key += "arch=\(architecture.rawValue)\n" }
    key += script + "\n"
    key += links.joined(separator: ",") + "\n"
    for input in inputs {
      let attributes = try? fm.attributesOfItem(atPath: input.hostPath)
      let size = attributes?[.size] as? Int ?? -1
      let mtime = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      key += "\(input.guestPath)\t\(input.hostPath)\t\(size)\t\(mtime)\t\(input.mode)\n"
    }
    return Plan(
      inputs: inputs, busyboxLinks: links, modules: modules.found.map(\.name),
      skippedModules: modules.skipped, initScript: script, hash: Self.fnv1a64Hex(key))
  }

  /// The libraries `ldd` lists for `binary` (including the loader), or none for a static one.
  /// - Throws: `VMError` when `ldd` reports a library it cannot find.
  package static func sharedLibraries(of binary: String) throws -> [String] {
    let output = try VMShell.run("/usr/bin/ldd", [binary])
    let text = String(decoding: output.stdout, as: UTF8.self)
    if output.status != 0 {
      // A static executable: "not a dynamic executable" (glibc ldd exits 1).
      return []
    }
    var result: [String] = []
    for rawLine in text.split(separator: "\n") {
      let line = rawLine.trimmingCharacters(in: .whitespaces)
      if line.contains("not found") {
        throw VMError(
          "ldd cannot find a library of '\(binary)': \(line). Install it or rebuild the "
            + "binary with --static-swift-stdlib.")
      }
      let path: Substring?
      if let arrow = line.range(of: "=> ") {
        path = line[arrow.upperBound...].split(separator: " ").first
      } else if line.hasPrefix("/") {
        path = line.split(separator: " ").first
      } else {
        path = nil  // linux-vdso.so.1 and friends live in the kernel.
      }
      if let path, path.hasPrefix("/") { result.append(String(path)) }
    }
    return result
  }

  /// A module file found for the image.
  package struct ModuleFile: Sendable, Equatable {
    /// Module name (`virtio_console`).
    package var name: String
    /// Uncompressed `.ko` on the host (a decompressed copy in the cache when needed).
    package var path: String
  }

  /// Finds the channel modules under the kernel's module folder, decompressing when needed.
  ///
  /// Modules the kernel has built in (`modules.builtin`) are skipped silently; modules that
  /// are neither built in nor present are returned in `skipped`.
  package func channelModuleFiles() throws -> (found: [ModuleFile], skipped: [String]) {
    guard let folder = kernel.modulesDirectory else {
      return ([], Self.channelModules)
    }
    let dep = (try? String(contentsOfFile: folder + "/modules.dep", encoding: .utf8)) ?? ""
    let builtin = (try? String(contentsOfFile: folder + "/modules.builtin", encoding: .utf8)) ?? ""
    var byName: [String: String] = [:]
    for line in dep.split(separator: "\n") {
      guard let colon = line.firstIndex(of: ":") else { continue }
      let relative = String(line[..<colon])
      byName[Self.moduleName(ofFile: relative)] = relative
    }
    let builtinNames = Set(
      builtin.split(separator: "\n").map { Self.moduleName(ofFile: String($0)) })
    var found: [ModuleFile] = []
    var skipped: [String] = []
    for name in Self.channelModules {
      if let relative = byName[name] {
        found.append(ModuleFile(name: name, path: try uncompressed(folder + "/" + relative)))
      } else if !builtinNames.contains(name) {
        skipped.append(name)
      }
    }
    return (found, skipped)
  }

  /// `kernel/drivers/virtio/virtio-rng.ko.xz` → `virtio_rng`.
  package static func moduleName(ofFile path: String) -> String {
    var name = (path as NSString).lastPathComponent
    for suffix in [".xz", ".zst", ".gz"] where name.hasSuffix(suffix) {
      name.removeLast(suffix.count)
    }
    if name.hasSuffix(".ko") { name.removeLast(3) }
    return name.replacingOccurrences(of: "-", with: "_")
  }

  private func uncompressed(_ path: String) throws -> String {
    let tools: [(String, String)] = [(".ko.xz", "xz"), (".ko.zst", "zstd"), (".ko.gz", "gzip")]
    guard let (_, tool) = tools.first(where: { path.hasSuffix($0.0) }) else { return path }
    guard let executable = VMShell.which(tool) else {
      throw VMError(
        "The module '\(path)' is compressed but '\(tool)' is not installed; install it.")
    }
    let output = try VMShell.run(executable, ["-dc", path])
    guard output.status == 0 else {
      throw VMError("Cannot decompress the module '\(path)' with \(tool): \(output.stderr)")
    }
    let folder = cacheDirectory + "/modules/" + kernel.release
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let target = folder + "/" + Self.moduleName(ofFile: path) + ".ko"
    try output.stdout.write(to: URL(fileURLWithPath: target), options: .atomic)
    return target
  }

  /// A copy of the ELF file at `path` without symbols, or `data` unchanged when strip fails.
  private static func stripped(data: Data, of path: String, tool: String, in folder: String)
    throws -> Data
  {
    let temporary = folder + "/.strip.\(getpid()).tmp"
    defer { try? FileManager.default.removeItem(atPath: temporary) }
    let result = try VMShell.run(tool, ["--strip-unneeded", "-o", temporary, path])
    guard result.status == 0, let smaller = FileManager.default.contents(atPath: temporary) else {
      return data
    }
    return smaller
  }

  private func resolved(_ path: String) -> String {
    URL(fileURLWithPath: path).resolvingSymlinksInPath().path
  }

  /// 64-bit FNV-1a of `text`, as 16 hex digits (a cache key, not a security hash).
  package static func fnv1a64Hex(_ text: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }

  /// Seconds of `duration`, for the image's `buildSeconds`.
  package static func seconds(_ duration: Duration) -> Double { duration.secondsDouble }
}
