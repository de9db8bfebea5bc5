import Foundation

/// The machine an ELF executable is built for, named as `uname -m` names it.
package enum ELFArchitecture {
  /// The `uname -m` name of the machine `path` is built for, or nil when it is not an ELF
  /// file or its machine is not one pvbench knows.
  ///
  /// Reads `e_ident[EI_DATA]` (byte 5: 1 little-endian, 2 big-endian) and `e_machine`
  /// (bytes 18–19, in that byte order) of the ELF header.
  package static func of(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    guard let header = try? handle.read(upToCount: 20), header.count == 20,
      header.prefix(4) == Data([0x7F, 0x45, 0x4C, 0x46])
    else { return nil }
    let bytes = [UInt8](header)
    let little = bytes[5] == 1
    let machine =
      little
      ? UInt16(bytes[18]) | UInt16(bytes[19]) << 8 : UInt16(bytes[18]) << 8 | UInt16(bytes[19])
    switch machine {
    case 62: return "x86_64"
    case 183: return "aarch64"
    case 21: return little ? "ppc64le" : "ppc64"
    case 22: return "s390x"
    case 243: return "riscv64"
    default: return nil
    }
  }
}
