import Foundation
import HostAgent
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// Test hook: kills the agent with SIGKILL at a chosen step of a mode change.
///
/// Steps are counted across journal appends and kernel changes, so step 2k+1 is "journaled
/// but not changed" and 2k+2 is "changed". Enabled only by the environment variable
/// `PVBENCH_CRASH_AT_STEP=N`, which the crash tests set; a no-op otherwise.
package final class CrashInjector: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0
  private let target: Int?

  /// Reads `PVBENCH_CRASH_AT_STEP`.
  package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    target = environment["PVBENCH_CRASH_AT_STEP"].flatMap(Int.init)
  }

  /// Counts one step and dies here when it is the target.
  package func step() {
    guard let target else { return }
    let now = lock.withLock {
      count += 1
      return count
    }
    if now == target { kill(getpid(), SIGKILL) }
  }
}

/// A writer that counts each successful change for the crash injector.
package struct CountingSysfsWriter: SysfsWriter {
  package let base: any SysfsWriter
  package let injector: CrashInjector

  package func write(_ value: String, to path: String) throws(KernelError) {
    try base.write(value, to: path)
    injector.step()
  }

  package func makeDirectory(_ path: String) throws(KernelError) {
    try base.makeDirectory(path)
    injector.step()
  }

  package func removeDirectory(_ path: String) throws(KernelError) {
    try base.removeDirectory(path)
  }

  package func loadModule(_ name: String, parameters: [(String, String)]) throws(KernelError) {
    try base.loadModule(name, parameters: parameters)
    injector.step()
  }

  package func unloadModule(_ name: String) throws(KernelError) { try base.unloadModule(name) }

  package func moduleAvailable(_ name: String, kernelRelease: String) -> Bool {
    base.moduleAvailable(name, kernelRelease: kernelRelease)
  }

  package func moduleLoaded(_ name: String) -> Bool { base.moduleLoaded(name) }
}
