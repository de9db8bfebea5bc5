import Foundation
import HostAgent
import LinuxHost

/// Installs the agent's test doubles in this process (the test build of pvbench only).
public enum TestDoubles {
  /// From now on an agent or `restore` on a root other than `/` acts on the fake kernel,
  /// and `PVBENCH_CRASH_AT_STEP=N` kills the process at the N-th journal-or-change step.
  public static func install() {
    let injector = CrashInjector()
    KernelAccess.override = { paths in
      let base: any SysfsWriter =
        paths.isRealHost ? KernelSysfsWriter(paths: paths) : FakeKernelSysfsWriter(paths: paths)
      return KernelAccess(
        writer: CountingSysfsWriter(base: base, injector: injector),
        afterJournalAppend: { injector.step() },
        threadSchedFile: paths.isRealHost ? nil : FakeKernelSysfsWriter.threadSchedFile(paths),
        paths: paths)
    }
  }
}
