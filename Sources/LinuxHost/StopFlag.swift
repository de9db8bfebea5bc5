import CPVBenchShims
import Foundation

/// A stop flag one thread sets and another polls, with the polling thread's exit mark.
package final class StopFlag: @unchecked Sendable {
  package init() {}

  private let lock = NSLock()
  private var stopped = false
  private var done = false
  /// Asks the thread to stop.
  package func stop() {
    lock.lock()
    stopped = true
    lock.unlock()
  }
  /// True once stop was asked.
  package var isStopped: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopped
  }
  /// The thread marks its exit.
  package func markDone() {
    lock.lock()
    done = true
    lock.unlock()
  }
  /// True once the thread has exited.
  package var isDone: Bool {
    lock.lock()
    defer { lock.unlock() }
    return done
  }
  /// Asks to stop and waits up to `limitSeconds` for the thread to exit.
  package func stopAndWait(limitSeconds: Double = 2) {
    stop()
    let deadline = Date().addingTimeInterval(limitSeconds)
    while !isDone && Date() < deadline { pvb_sleep_ns(1_000_000) }
  }
}
