import Foundation

/// The kernel a guest boots: its image, its release string and its module folder.
package struct GuestKernel: Sendable, Equatable {
  /// Path of the bzImage on the host.
  package var path: String
  /// The kernel release (`uname -r` inside the guest), e.g. `6.1.0-56-cloud-amd64`.
  package var release: String
  /// `/lib/modules/<release>` when it exists on the host, else nil (a kernel with the
  /// channel drivers built in needs none).
  package var modulesDirectory: String?

  /// Resolves `auto` (the newest readable `/boot/vmlinuz-*`) or a path to a kernel image.
  ///
  /// The release comes from the bzImage header's version string, or else from the file name
  /// after `vmlinuz-`.
  /// - Throws: `VMError` when no readable kernel exists or the path is not readable.
  /// - Parameters:
  ///   - prefix: the image names' prefix: `vmlinuz-` (x86 bzImage) or `vmlinux-` (the ELF
  ///     image a ppc64el kernel package installs).
  ///   - missingHint: what to do when `auto` finds no kernel.
  package static func resolve(
    _ choice: String, bootDirectory: String = "/boot", modulesRoot: String = "/lib/modules",
    prefix: String = "vmlinuz-",
    missingHint: String =
      "Install one ('apt-get install linux-image-cloud-amd64') or give a path with --kernel."
  ) throws -> GuestKernel {
    let fm = FileManager.default
    let path: String
    if choice == "auto" {
      let names = (try? fm.contentsOfDirectory(atPath: bootDirectory)) ?? []
      let candidates =
        names
        .filter { $0.hasPrefix(prefix) }
        .filter { fm.isReadableFile(atPath: bootDirectory + "/" + $0) }
        .sorted { naturalLess($0, $1) }
      guard let newest = candidates.last else {
        throw VMError("No readable kernel matches \(bootDirectory)/\(prefix)*. " + missingHint)
      }
      path = bootDirectory + "/" + newest
    } else {
      guard fm.isReadableFile(atPath: choice) else {
        throw VMError(
          "The kernel '\(choice)' does not exist or is not readable. Give a bzImage path "
            + "or 'auto'.")
      }
      path = choice
    }
    let name = (path as NSString).lastPathComponent
    let fromName = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : nil
    guard let release = headerRelease(ofKernelAt: path) ?? fromName else {
      throw VMError(
        "Cannot tell the release of the kernel '\(path)': it has no bzImage version string "
          + "and its name does not start with '\(prefix)'. Rename it \(prefix)<release>.")
    }
    var isDirectory: ObjCBool = false
    let modules = modulesRoot + "/" + release
    let hasModules =
      fm.fileExists(atPath: modules, isDirectory: &isDirectory) && isDirectory.boolValue
    return GuestKernel(path: path, release: release, modulesDirectory: hasModules ? modules : nil)
  }

  /// Reads the release from a bzImage's setup header, or returns nil when it is not a bzImage.
  ///
  /// The x86 boot protocol puts `HdrS` at 0x202 and, at 0x20E, a 16-bit offset (relative to
  /// 0x200) of a NUL-terminated version string whose first word is the release.
  package static func headerRelease(ofKernelAt path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let head = try? handle.read(upToCount: 0x10400), head.count > 0x210 else { return nil }
    let bytes = [UInt8](head)
    guard bytes[0x202..<0x206].elementsEqual("HdrS".utf8) else { return nil }
    let offset = Int(bytes[0x20E]) | Int(bytes[0x20F]) << 8
    let start = offset + 0x200
    guard offset != 0, start < bytes.count else { return nil }
    let text = bytes[start...].prefix { $0 != 0 && $0 != 0x20 }
    let release = String(decoding: text, as: UTF8.self)
    return release.isEmpty ? nil : release
  }

  /// Compares two names so that embedded numbers order numerically (`5.10` after `5.9`).
  package static func naturalLess(_ a: String, _ b: String) -> Bool {
    let left = chunks(a)
    let right = chunks(b)
    for (x, y) in zip(left, right) where x != y {
      if let i = Int(x), let j = Int(y) { return i < j }
      return x < y
    }
    return left.count < right.count
  }

  private static func chunks(_ text: String) -> [String] {
    var result: [String] = []
    var current = ""
    var currentIsDigit = false
    for ch in text {
      let isDigit = ch.isASCII && ch.isNumber
      if !current.isEmpty && isDigit != currentIsDigit {
        result.append(current)
        current = ""
      }
      current.append(ch)
      currentIsDigit = isDigit
    }
    if !current.isEmpty { result.append(current) }
    return result
  }
}
