/// How a pool of host CPUs dispatches the vCPUs of local guests under contention.
///
/// A PowerVM shared-processor pool guarantees an LPAR its entitled capacity and runs its
/// other virtual processors only on cycles the pool has spare. `entitled` models that;
/// `fair` gives each guest one weight, so every vCPU of a guest gets an equal slice.
public enum PoolModel: String, Codable, Sendable, CaseIterable {
  /// Each guest's entitled vCPUs (its lowest-numbered whole cores, the ones folding keeps)
  /// share the guest's weight; its other vCPU threads sit in a child cgroup with the
  /// smallest weight the kernel allows, so they run only on spare cycles.
  case entitled
  /// One weight per guest, proportional to its entitlement, shared by all its vCPUs.
  case fair

  /// One line for plans and report headers.
  public var summary: String {
    switch self {
    case .entitled: "entitled (non-entitled vCPUs run on spare cycles only)"
    case .fair: "fair (one weight per guest, equal for each of its vCPUs)"
    }
  }
}
