/// How a pool of host CPUs dispatches the vCPUs of local guests under contention.
///
/// PowerVM works in a dispatch window (10 ms): a shared-processor LPAR's processing units
/// are core time guaranteed in each window, spread over whichever of its virtual processors
/// run, and uncapped LPARs also share the pool's spare cycles by uncapped weight. `dispatch`
/// models that with CFS bandwidth per window on each guest's vCPU threads; `entitled` and
/// `fair` are older, coarser models kept for comparison (docs/vm.md, "Pool models").
public enum PoolModel: String, Codable, Sendable, CaseIterable {
  /// Each guest's vCPU threads (not QEMU's other threads) share CFS bandwidth of
  /// entitled × window per window (`pool.window`); an uncapped guest's bandwidth also
  /// takes its uncapped-weight share of the pool capacity no entitlement claims.
  case dispatch
  /// Each guest's entitled vCPUs (its lowest-numbered whole cores, the ones folding keeps)
  /// share the guest's weight; its other vCPU threads sit in a child cgroup with the
  /// smallest weight the kernel allows, so they run only on spare cycles.
  case entitled
  /// One weight per guest, proportional to its entitlement, shared by all its vCPUs.
  case fair

  /// The model of qemu guests when `pool.model` is not given.
  public static let standard = PoolModel.dispatch

  /// One line for plans and report headers.
  public var summary: String {
    switch self {
    case .dispatch:
      "dispatch (vCPU threads get entitled x window of CPU time per window, as PowerVM's "
        + "dispatcher)"
    case .entitled:
      "entitled (weight per guest; non-entitled vCPUs run on spare cycles only, so they "
        + "starve under contention)"
    case .fair:
      "fair (one weight per guest, split over its runnable vCPUs; folding loses capacity)"
    }
  }
}
