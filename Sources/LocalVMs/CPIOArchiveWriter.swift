import Foundation

/// Writes a `newc` (SVR4, no CRC) cpio archive, the format the Linux kernel unpacks as an
/// initramfs.
///
/// Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex fields), the
/// NUL-terminated name padded to 4 bytes, then the data padded to 4 bytes. Parent directories
/// are added on demand, so callers may add `lib/x86_64-linux-gnu/libc.so.6` directly.
package struct CPIOArchiveWriter {
  private var bytes = Data()
  private var nextInode: UInt32 = 1
  private var directories: Set<String> = []
  /// The archive paths written so far, in order (without a leading slash).
  package private(set) var paths: [String] = []

  /// Creates an empty archive.
  package init() {}

  /// Adds a directory (and its missing parents).
  package mutating func addDirectory(_ path: String, mode: UInt32 = 0o755) {
    let name = Self.normalize(path)
    guard !name.isEmpty, !directories.contains(name) else { return }
    addParents(of: name)
    directories.insert(name)
    append(name: name, mode: 0o040000 | mode, data: Data())
  }

  /// Adds a regular file with the given contents and permission bits.
  package mutating func addFile(_ path: String, contents: Data, mode: UInt32 = 0o644) {
    let name = Self.normalize(path)
    addParents(of: name)
    append(name: name, mode: 0o100000 | mode, data: contents)
  }

  /// Adds a symbolic link `path` → `target`.
  package mutating func addSymlink(_ path: String, target: String) {
    let name = Self.normalize(path)
    addParents(of: name)
    append(name: name, mode: 0o120777, data: Data(target.utf8))
  }

  /// Adds a character device node such as `dev/console` (5, 1).
  package mutating func addCharacterDevice(
    _ path: String, major: UInt32, minor: UInt32, mode: UInt32
  ) {
    let name = Self.normalize(path)
    addParents(of: name)
    append(name: name, mode: 0o020000 | mode, data: Data(), rdev: (major, minor))
  }

  /// Appends the `TRAILER!!!` entry and returns the finished archive.
  package mutating func finish() -> Data {
    append(name: "TRAILER!!!", mode: 0, data: Data(), nlink: 1, inode: 0)
    return bytes
  }

  private mutating func addParents(of name: String) {
    var parent = (name as NSString).deletingLastPathComponent
    var missing: [String] = []
    while !parent.isEmpty, parent != "/", !directories.contains(parent) {
      missing.append(parent)
      parent = (parent as NSString).deletingLastPathComponent
    }
    for dir in missing.reversed() {
      directories.insert(dir)
      append(name: dir, mode: 0o040755, data: Data())
    }
  }

  private mutating func append(
    name: String, mode: UInt32, data: Data, rdev: (UInt32, UInt32) = (0, 0),
    nlink: UInt32? = nil, inode: UInt32? = nil
  ) {
    let isDirectory = mode & 0o170000 == 0o040000
    let ino = inode ?? nextInode
    if inode == nil { nextInode += 1 }
    let fields: [UInt32] = [
      ino, mode, 0, 0, nlink ?? (isDirectory ? 2 : 1), 0, UInt32(data.count), 0, 0,
      rdev.0, rdev.1, UInt32(name.utf8.count + 1), 0,
    ]
    var header = "070701"
    for field in fields {
      let hex = String(field, radix: 16, uppercase: true)
      header += String(repeating: "0", count: 8 - hex.count) + hex
    }
    bytes.append(contentsOf: header.utf8)
    bytes.append(contentsOf: name.utf8)
    bytes.append(0)
    pad()
    bytes.append(data)
    pad()
    if name != "TRAILER!!!" { paths.append(name) }
  }

  private mutating func pad() {
    let remainder = bytes.count % 4
    if remainder != 0 { bytes.append(contentsOf: [UInt8](repeating: 0, count: 4 - remainder)) }
  }

  private static func normalize(_ path: String) -> String {
    var name = path
    while name.hasPrefix("/") { name.removeFirst() }
    while name.hasSuffix("/") { name.removeLast() }
    return name
  }
}
