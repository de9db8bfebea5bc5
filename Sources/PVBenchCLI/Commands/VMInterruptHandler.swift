import Dispatch
import Foundation
import LinuxHost
import LocalVMs
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Ends every guest when pvbench gets SIGINT or SIGTERM, then exits with status 130.
///
/// For the `vm` commands; the run engine installs its own handler and calls
/// `QEMUGuestRegistry.shared.terminateAll()` from it.
package enum VMInterruptHandler {
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []
  private static let interrupted = Atomic<Bool>(false)

  /// True once SIGINT or SIGTERM arrived: a guest failing now failed because it was stopped.
  package static var wasInterrupted: Bool { interrupted.load(ordering: .acquiring) }

  /// Installs the handler (once per process; later calls do nothing).
  package static func install() {
    guard sources.isEmpty else { return }
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        interrupted.store(true, ordering: .releasing)
        QEMUGuestRegistry.shared.terminateAll()
        printToStandardError(
          "pvbench vm: interrupted; every guest was stopped and its files removed.")
        exit(ExitStatus.interrupted.rawValue)
      }
      source.resume()
      sources.append(source)
    }
  }
}
