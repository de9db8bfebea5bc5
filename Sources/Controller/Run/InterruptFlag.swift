import Dispatch
import Foundation

/// Turns SIGINT, SIGTERM and SIGHUP into a flag the controller polls, so that a
/// Ctrl-C stops the cell, restores every host and writes what was measured instead of
/// killing the process with hosts half changed. A second Ctrl-C is reported but still
/// waits for the restore: leaving CPUs offline is worse than waiting.
package final class InterruptFlag: @unchecked Sendable {
  package init() {}

  private let lock = NSLock()
  private var set = false
  private var signalName = ""
  private var sources: [DispatchSourceSignal] = []

  package var isSet: Bool { lock.withLock { set } }
  package var name: String { lock.withLock { signalName } }

  /// Installs the handlers; `onSignal` runs on each signal (for a message).
  package func install(onSignal: @escaping @Sendable (String, Int) -> Void) {
    var count = 0
    for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [self] in
        let seen = lock.withLock {
          set = true
          if signalName.isEmpty { signalName = name }
          count += 1
          return count
        }
        onSignal(name, seen)
      }
      source.resume()
      sources.append(source)
    }
  }

  /// Sets the flag as a signal would (tests, and fatal host errors).
  package func trigger(_ name: String) {
    lock.withLock {
      set = true
      if signalName.isEmpty { signalName = name }
    }
  }
}
