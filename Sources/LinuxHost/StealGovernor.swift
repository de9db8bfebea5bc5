/// The steal governor kernel module of the 2026 `cpu_preferred_mask` series.
package enum StealGovernor {
  /// The module name modprobe takes.
  package static let moduleName = "steal_governor"
}
