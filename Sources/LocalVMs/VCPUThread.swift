/// One vCPU thread of a QEMU process.
package struct VCPUThread: Sendable, Equatable {
  /// The vCPU number inside the guest (`CPU 3/TCG` → 3).
  package var index: Int
  /// The host thread id (a directory under `/proc/<pid>/task`).
  package var tid: Int32

  /// Memberwise.
  package init(
    index: Int,
    tid: Int32
  ) {
    self.index = index
    self.tid = tid
  }
}
