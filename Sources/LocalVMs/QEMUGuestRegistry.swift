import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Every QEMU process this pvbench started and has not yet ended, so a signal handler can
/// end them all.
package final class QEMUGuestRegistry: Sendable {
  /// The process-wide registry.
  package static let shared = QEMUGuestRegistry()
  private let guests = Mutex<[Int32: String]>([:])

  /// Records a started QEMU process and its folder.
  package func register(pid: Int32, directory: String) {
    guests.withLock { $0[pid] = directory }
  }

  /// Forgets a QEMU process that has been shut down.
  package func unregister(pid: Int32) {
    _ = guests.withLock { $0.removeValue(forKey: pid) }
  }

  /// The process ids of the guests still running.
  package var pids: [Int32] { guests.withLock { Array($0.keys).sorted() } }

  /// Kills every registered QEMU process with SIGKILL and removes its folder (for SIGINT
  /// handlers and fatal paths; the `QEMUGuest` objects then find their process gone).
  package func terminateAll() {
    let all = guests.withLock { guests in
      let copy = guests
      guests.removeAll()
      return copy
    }
    for (pid, directory) in all {
      kill(pid, SIGKILL)
      var status: Int32 = 0
      _ = waitpid(pid, &status, 0)
      try? FileManager.default.removeItem(atPath: directory)
    }
  }
}
