import Foundation
import LinuxHost

/// Where the governor reads the steal it acts on.
package enum GovernorInput: String, Sendable, Equatable {
  /// The guest's own `/proc/stat`: the aggregate line's steal, which the kernel sums over
  /// every possible CPU, in USER_HZ ticks turned into ns.
  case guestProcStat = "guest /proc/stat"
  /// The run-queue wait of the guest's QEMU vCPU threads (`schedstat`), summed over the
  /// threads, ns: for a TCG guest, whose kernel sees no steal.
  case hostSide = "host-side vCPU thread wait"
}

/// The latest steal readings of the host the governor watches, fed by the run's event
/// pump as samples arrive (guest `/proc/stat` and host-side `schedstat`, once a second).
package final class GovernorFeed: @unchecked Sendable {
  /// One guest `/proc/stat` sample.
  package struct GuestSample: Sendable, Equatable {
    /// The guest's monotonic clock, ns.
    package var timeNanoseconds: UInt64
    /// The aggregate line's steal, USER_HZ ticks.
    package var stealTicks: UInt64
    /// The CPUs with a line of their own: the kernel prints one per online CPU.
    package var online: CPUSet
  }

  /// One host-side sample of the guest's vCPU threads.
  package struct HostSideSample: Sendable, Equatable {
    /// The controller's monotonic clock, ns.
    package var timeNanoseconds: UInt64
    /// Run-queue wait summed over the threads still there, ns.
    package var waitNanoseconds: UInt64
  }

  /// The host whose samples are kept.
  package let host: String
  private let lock = NSLock()
  private var guest: GuestSample?
  private var hostSide: HostSideSample?

  /// Nanoseconds per USER_HZ tick: `/proc/stat` counts in USER_HZ, which is 100 on every
  /// architecture the series runs on.
  package static let nanosecondsPerTick: UInt64 = 10_000_000

  package init(host: String) { self.host = host }

  /// Keeps the event when it is a sample of `host`.
  package func observe(_ event: HostEvent, from name: String) {
    guard name == host else { return }
    switch event {
    case .cpuSample(let time, let total, let perCPU):
      let sample = GuestSample(
        timeNanoseconds: time, stealTicks: total.steal, online: CPUSet(perCPU.keys))
      lock.withLock { guest = sample }
    case .hostSteal(let time, _, let vcpus):
      let wait = vcpus.reduce(UInt64(0)) { $0 + ($1?.waitNanoseconds ?? 0) }
      lock.withLock { hostSide = HostSideSample(timeNanoseconds: time, waitNanoseconds: wait) }
    default:
      break
    }
  }

  /// The latest guest `/proc/stat` sample, if one came.
  package var latestGuest: GuestSample? { lock.withLock { guest } }
  /// The latest host-side sample, if one came.
  package var latestHostSide: HostSideSample? { lock.withLock { hostSide } }

  /// The latest reading from `input`, with `active` and `activeCount` given by the caller
  /// (they depend on the mode the governor acts through); nil until both the input and a
  /// guest sample (for the online CPUs) have come.
  package func reading(_ input: GovernorInput) -> (
    stealNanoseconds: UInt64, timeNanoseconds: UInt64, online: CPUSet
  )? {
    lock.withLock {
      guard let guest else { return nil }
      switch input {
      case .guestProcStat:
        return (guest.stealTicks &* Self.nanosecondsPerTick, guest.timeNanoseconds, guest.online)
      case .hostSide:
        guard let hostSide else { return nil }
        return (hostSide.waitNanoseconds, hostSide.timeNanoseconds, guest.online)
      }
    }
  }
}
