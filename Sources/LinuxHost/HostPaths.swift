import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Resolves every sysfs, procfs, debugfs, cgroup and /run path of a host under one root.
///
/// The real root is `/`. Tests point it at a temporary fake tree, so no test ever touches
/// this machine's CPUs.
package struct HostPaths: Sendable, Hashable {
  /// The directory that stands for `/`.
  package let root: String

  /// Paths under `root`; `root` "/" means the real host.
  package init(root: String = "/") {
    var trimmed = root
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    self.root = trimmed.isEmpty ? "/" : trimmed
  }

  /// True for the real host (root `/`).
  package var isRealHost: Bool { root == "/" }

  /// The on-disk path of an absolute host path such as `/proc/stat`.
  package func resolve(_ absolute: String) -> String {
    root == "/" ? absolute : root + absolute
  }

  /// `/sys/devices/system/cpu`.
  package static let cpuDirectory = "/sys/devices/system/cpu"
  /// The v3 RFC's paravirt cpulist file.
  package static let paravirt = "/sys/devices/system/cpu/paravirt"
  /// The steal governor's preferred-CPU list.
  package static let preferred = "/sys/devices/system/cpu/preferred"
  /// The powerpc debugfs hint that takes the first paravirt CPU number.
  package static let vpManualHint = "/sys/kernel/debug/powerpc/vp_manual_hint"
  /// The PowerVM partition configuration (entitlement).
  package static let lparcfg = "/proc/powerpc/lparcfg"
  /// The cgroup mount point (v2 unified, or the v1 hierarchy parent).
  package static let cgroupRoot = "/sys/fs/cgroup"
  /// Where agents keep restore journals.
  package static let journalDirectory = "/run/pvbench"

  /// `/sys/devices/system/cpu/cpuN/online`.
  package static func cpuOnline(_ cpu: Int) -> String { "\(cpuDirectory)/cpu\(cpu)/online" }

  /// The CPUs present (`/sys/devices/system/cpu/present`); for the real host the
  /// processor count when the file cannot be read.
  package func presentCPUs() -> CPUSet {
    if let text = read(Self.cpuDirectory + "/present"), let list = CPUSet(parsing: text),
      !list.isEmpty
    {
      return list
    }
    return CPUSet(0..<ProcessInfo.processInfo.processorCount)
  }

  /// The CPUs online (`/sys/devices/system/cpu/online`; never written); cpu0 alone when the
  /// file cannot be read.
  package func onlineCPUs() -> CPUSet {
    read(Self.cpuDirectory + "/online").flatMap { CPUSet(parsing: $0) } ?? CPUSet([0])
  }

  /// Reads a whole file under the root, or nil when it does not exist or cannot be read.
  package func read(_ absolute: String) -> String? {
    guard let data = FileManager.default.contents(atPath: resolve(absolute)) else { return nil }
    return String(decoding: data, as: UTF8.self)
  }

  /// Reads a one-line file under the root with surrounding whitespace removed.
  package func readTrimmed(_ absolute: String) -> String? {
    read(absolute)?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// True when a file or directory exists under the root.
  package func exists(_ absolute: String) -> Bool {
    FileManager.default.fileExists(atPath: resolve(absolute))
  }

  /// Whether a sysfs attribute takes writes: its mode has a write bit, as the kernel gives
  /// an attribute with a store method (a read-only one is 0444 and refuses even root,
  /// which `access(2)` would not tell). False when the file is missing.
  package func isWritableAttribute(_ absolute: String) -> Bool {
    var info = stat()
    guard stat(resolve(absolute), &info) == 0 else { return false }
    return info.st_mode & 0o222 != 0
  }

  /// Names inside a directory under the root (empty when missing).
  package func list(_ absolute: String) -> [String] {
    (try? FileManager.default.contentsOfDirectory(atPath: resolve(absolute))) ?? []
  }
}
