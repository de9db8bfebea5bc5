/// The steal governor kernel module of the 2026 `cpu_preferred_mask` series.
enum StealGovernor {
  /// The module name modprobe takes.
  static let moduleName = "steal_governor"
}
