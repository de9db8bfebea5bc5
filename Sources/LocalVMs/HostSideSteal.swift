import Foundation
import LinuxHost
import Synchronization

/// Steal % of each vCPU over one sampling interval, seen from the host.
package struct HostStealSample: Sendable, Equatable {
  /// Steal % per vCPU thread, in the order of the threads given to `HostSideSteal`; nil for
  /// a thread that vanished.
  package var perVCPU: [Double?]
  /// Mean over the vCPUs that have a figure (nil when none has).
  package var mean: Double?
  /// Length of the interval, ns.
  package var intervalNanoseconds: UInt64
  /// Each vCPU thread's cumulative run and wait time at the end of the interval, in the
  /// order of the threads; nil for a thread that vanished. The run engine stores them
  /// with the cell's results, so the report can work out CPU received and steal per guest.
  package var cumulative: [SchedStat?] = []
}

/// Host-side steal of a guest: the run-queue wait of its QEMU vCPU threads.
///
/// A vCPU thread that is runnable but waiting for a host CPU is exactly a vCPU the guest
/// believes is running while the host runs something else. Over an interval,
/// steal % = Δwait / Δwall × 100 per vCPU. This works for TCG guests, whose kernels report
/// no steal in `/proc/stat`.
package final class HostSideSteal: Sendable {
  /// The QEMU process.
  package let pid: Int32
  /// The vCPU threads sampled.
  package let threads: [VCPUThread]
  private let procRoot: String
  private let clock: @Sendable () -> UInt64
  private let last = Mutex<(wall: UInt64, waits: [UInt64?])>((0, []))

  /// Starts sampling: the first `sample()` covers the time from now.
  /// - Parameters:
  ///   - pid: QEMU's process id.
  ///   - threads: its vCPU threads (`QEMUGuest.vcpuThreads()`).
  ///   - procRoot: `/proc`, or a fake tree in tests.
  ///   - clock: CLOCK_MONOTONIC nanoseconds, the clock of every other timestamp in a run
  ///     (injectable for tests).
  package init(
    pid: Int32, threads: [VCPUThread], procRoot: String = "/proc",
    clock: @escaping @Sendable () -> UInt64 = monotonicNow
  ) {
    self.pid = pid
    self.threads = threads
    self.procRoot = procRoot
    self.clock = clock
    let waits = threads.map {
      SchedStat.read(pid: pid, tid: $0.tid, procRoot: procRoot)?.waitNanoseconds
    }
    last.withLock { $0 = (clock(), waits) }
  }

  /// Returns steal % per vCPU since the previous call (or since `init`).
  package func sample() -> HostStealSample {
    let now = clock()
    let stats = threads.map { SchedStat.read(pid: pid, tid: $0.tid, procRoot: procRoot) }
    let waits = stats.map { $0?.waitNanoseconds }
    let previous = last.withLock { state in
      let old = state
      state = (now, waits)
      return old
    }
    let wall = now &- previous.wall
    var perVCPU: [Double?] = []
    for (index, wait) in waits.enumerated() {
      guard let wait, index < previous.waits.count, let before = previous.waits[index], wall > 0,
        wait >= before
      else {
        perVCPU.append(nil)
        continue
      }
      perVCPU.append(min(100, Double(wait - before) / Double(wall) * 100))
    }
    let known = perVCPU.compactMap { $0 }
    let mean = known.isEmpty ? nil : known.reduce(0, +) / Double(known.count)
    return HostStealSample(
      perVCPU: perVCPU, mean: mean, intervalNanoseconds: wall, cumulative: stats)
  }
}
