import Foundation
import LinuxHost

/// Which agent program serves a host.
///
/// The Swift pvbench serves hosts of the machine it is built for (x86_64 here; aarch64 too
/// where a Swift runtime builds it). No Swift runtime exists for ppc64le or s390x, so those
/// hosts — and aarch64 hosts when this pvbench is not built for aarch64 — get the portable
/// C agent (`agent/`, built by `scripts/build-agents`), which serves the same protocol.
package enum AgentKind: Sendable, Equatable, CustomStringConvertible {
  /// The Swift `pvbench agent`.
  case swift
  /// The portable `pvbench-agent` built for `architecture` (`uname -m` name).
  case portable(architecture: String)

  /// `swift` or `portable (C) ppc64le`.
  package var description: String {
    switch self {
    case .swift: "swift"
    case .portable(let architecture): "portable (C) \(architecture)"
    }
  }
}

/// Finds the portable agent built for an architecture, and says which agent a host gets.
package enum PortableAgent {
  /// The architectures `scripts/build-agents` builds the portable agent for.
  package static let architectures = ["x86_64", "ppc64le", "s390x", "aarch64"]

  /// The agent a host whose `uname -m` is `remote` gets from a controller whose Swift
  /// binary is built for `swiftArchitecture` (nil when unknown: then only x86_64 hosts
  /// get it).
  ///
  /// - Returns: nil when neither agent can serve the host (an architecture
  ///   `scripts/build-agents` does not build, such as big-endian ppc64).
  package static func choice(remote: String, swiftArchitecture: String?) -> AgentKind? {
    if remote == (swiftArchitecture ?? "x86_64") { return .swift }
    return architectures.contains(remote) ? .portable(architecture: remote) : nil
  }

  /// The places `locate` looks in for `architecture`'s agent, in order: `pvbench-agent-ARCH`
  /// next to `executable`, then `.build-agents/ARCH/pvbench-agent` in the folder of
  /// `executable` and each folder above it (the project's build folder, for a pvbench run
  /// from `.build/…`).
  package static func candidates(architecture: String, nextTo executable: String) -> [String] {
    let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath()
    var folder = resolved.deletingLastPathComponent().path
    var paths = ["\(folder)/pvbench-agent-\(architecture)"]
    while true {
      paths.append("\(folder == "/" ? "" : folder)/.build-agents/\(architecture)/pvbench-agent")
      if folder == "/" || folder.isEmpty { break }
      folder = (folder as NSString).deletingLastPathComponent
    }
    return paths
  }

  /// The portable agent built for `architecture`, found from `executable`'s place.
  ///
  /// - Throws: `VMError` naming the places looked in and `scripts/build-agents`; a file
  ///   found there that is built for another machine is skipped, not an error.
  package static func locate(architecture: String, nextTo executable: String) throws -> String {
    let paths = candidates(architecture: architecture, nextTo: executable)
    for path in paths where FileManager.default.isExecutableFile(atPath: path) {
      if ELFArchitecture.of(path) == architecture { return path }
    }
    let folder = URL(fileURLWithPath: paths[0]).deletingLastPathComponent().path
    throw VMError(
      "No portable agent for \(architecture) was found (looked for \(paths[0]), and for "
        + ".build-agents/\(architecture)/pvbench-agent in \(folder) and every folder above it). "
        + "Build it with 'scripts/build-agents \(architecture)' in the pvbench sources, or put "
        + "it next to pvbench as pvbench-agent-\(architecture).")
  }

  /// A short content hash of the file at `path` (16 hex digits of 64-bit FNV-1a): the
  /// portable agent has no `--version`, so its copy on a remote is named by its contents.
  package static func contentHash(of path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw VMError("Cannot read the portable agent '\(path)'.")
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    data.withUnsafeBytes { raw in
      for byte in raw.bindMemory(to: UInt8.self) {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
      }
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
