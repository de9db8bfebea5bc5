import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Ends every guest when pvbench gets SIGINT or SIGTERM, then exits with status 130.
///
/// For the `vm` commands; the run engine installs its own handler and calls
/// `QEMUGuestRegistry.shared.terminateAll()` from it.
enum VMInterruptHandler {
  nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

  /// Installs the handler (once per process; later calls do nothing).
  static func install() {
    guard sources.isEmpty else { return }
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler {
        QEMUGuestRegistry.shared.terminateAll()
        printError("pvbench vm: interrupted; every guest was stopped and its files removed.")
        exit(ExitStatus.interrupted.rawValue)
      }
      source.resume()
      sources.append(source)
    }
  }
}
