import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A `sleep 30` child standing in for a guest's process or vCPU thread; `stop()` kills
/// and reaps it.
struct SleepingChild {
  private let process = Process()

  /// The child's pid.
  var pid: Int32 { process.processIdentifier }

  /// Starts the child.
  /// - Throws: when `/bin/sleep` does not start.
  init() throws {
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["30"]
    try process.run()
  }

  /// Kills the child and waits for it.
  func stop() {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }
}
