import LinuxHost

/// How an agent reaches the kernel: the kernel's own files under its root.
///
/// The seam the tests use: the test build of the command line (`Tests/pvbench-testing`)
/// installs a fake kernel for fake roots and a crash injector before it parses its
/// arguments. `pvbench` itself installs nothing, so a release binary holds no test double
/// and writes the files under any `--root` (a chroot, a mounted image) as they are.
package struct KernelAccess: Sendable {
  /// Writes sysfs, cgroup and module changes.
  package var writer: any SysfsWriter
  /// Called after each restore-journal line is written (the crash tests' hook).
  package var afterJournalAppend: (@Sendable () -> Void)?

  package init(writer: any SysfsWriter, afterJournalAppend: (@Sendable () -> Void)? = nil) {
    self.writer = writer
    self.afterJournalAppend = afterJournalAppend
  }

  /// Replaces the real kernel for this process; set once, at start, by a test executable.
  nonisolated(unsafe) package static var override: (@Sendable (HostPaths) -> KernelAccess)?

  /// The kernel of the host under `paths`.
  package static func make(paths: HostPaths) -> KernelAccess {
    override?(paths) ?? KernelAccess(writer: KernelSysfsWriter(paths: paths))
  }
}
