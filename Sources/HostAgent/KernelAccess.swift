import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

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
  /// Where the workload's thread number `index` (message threads first, then workers),
  /// thread id `tid`, keeps its `sched` file: by default the agent's own
  /// `/proc/PID/task/TID/sched` under the root. A fake tree cannot know the thread ids, so
  /// the fake kernel names its own files instead (docs/modes.md, "The fake kernel").
  package var threadSchedFile: @Sendable (_ index: Int, _ tid: Int32) -> String

  package init(
    writer: any SysfsWriter, afterJournalAppend: (@Sendable () -> Void)? = nil,
    threadSchedFile: (@Sendable (Int, Int32) -> String)? = nil, paths: HostPaths
  ) {
    self.writer = writer
    self.afterJournalAppend = afterJournalAppend
    let pid = getpid()
    self.threadSchedFile =
      threadSchedFile ?? { _, tid in
        paths.resolve(ProcSched.path(process: "\(pid)", thread: tid))
      }
  }

  /// Replaces the real kernel for this process; set once, at start, by a test executable.
  nonisolated(unsafe) package static var override: (@Sendable (HostPaths) -> KernelAccess)?

  /// The kernel of the host under `paths`.
  package static func make(paths: HostPaths) -> KernelAccess {
    override?(paths) ?? KernelAccess(writer: KernelSysfsWriter(paths: paths), paths: paths)
  }
}
