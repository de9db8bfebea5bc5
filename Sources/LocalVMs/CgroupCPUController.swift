import Foundation

/// The host cgroup hierarchy that carries the `cpu` controller, v2 or v1.
package enum CgroupCPUController: Sendable, Equatable {
  /// cgroup v2 with `cpu` in `cgroup.controllers`: `cpu.weight`, `cpu.max`.
  case v2(root: String)
  /// cgroup v1 `cpu` hierarchy: `cpu.shares`, `cpu.cfs_quota_us`.
  case v1(root: String)

  /// The hierarchy's mount point.
  package var root: String {
    switch self {
    case .v2(let root), .v1(let root): return root
    }
  }

  /// Whether this is the v1 hierarchy.
  package var isV1: Bool {
    if case .v1 = self { return true }
    return false
  }

  /// Finds the cpu controller on this host from `/proc/self/mounts`.
  package static func detect() -> CgroupCPUController? {
    let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
    return detect(mounts: mounts) { try? String(contentsOfFile: $0, encoding: .utf8) }
  }

  /// Finds the cpu controller in a mount table, preferring v2 when its root offers `cpu`.
  /// - Parameters:
  ///   - mounts: text in `/proc/mounts` format.
  ///   - readFile: reads a file (for `cgroup.controllers`), nil when absent.
  package static func detect(mounts: String, readFile: (String) -> String?) -> CgroupCPUController?
  {
    var v1: String?
    for line in mounts.split(separator: "\n") {
      let fields = line.split(separator: " ").map(String.init)
      guard fields.count >= 4 else { continue }
      let (mountPoint, type, options) = (fields[1], fields[2], fields[3])
      if type == "cgroup2" {
        let controllers = readFile(mountPoint + "/cgroup.controllers") ?? ""
        if controllers.split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu") {
          return .v2(root: mountPoint)
        }
      } else if type == "cgroup", v1 == nil, options.split(separator: ",").contains("cpu") {
        v1 = mountPoint
      }
    }
    return v1.map { .v1(root: $0) }
  }

  /// The relative CPU weight for `entitledCPUs` (v1 `cpu.shares` 1024 per CPU, v2
  /// `cpu.weight` 100 per CPU), clamped to the kernel's range.
  package func weight(entitledCPUs: Double) -> Int {
    switch self {
    case .v1: return min(262_144, max(2, Int((entitledCPUs * 1024).rounded())))
    case .v2: return min(10_000, max(1, Int((entitledCPUs * 100).rounded())))
    }
  }

  /// The bandwidth quota in microseconds per period (100 ms unless given) for
  /// `entitledCPUs` CPUs; at least 1000, the smallest quota the kernel accepts.
  package static func quotaMicroseconds(entitledCPUs: Double, periodMicroseconds: Int = 100_000)
    -> Int
  {
    max(1000, Int((entitledCPUs * Double(periodMicroseconds)).rounded()))
  }
}
