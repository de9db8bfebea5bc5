/// Where a steal figure came from.
public enum StealSource: String, Codable, Sendable {
  /// The guest kernel's own `/proc/stat` steal column.
  case guest
  /// The run-queue wait of QEMU's vCPU threads on the host.
  case host
  /// No source: the figure is absent.
  case none
}
