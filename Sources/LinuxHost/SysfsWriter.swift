import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A refusal or failure from the kernel (or the tests' fake kernel) for one path.
package struct KernelError: Error, Sendable, Hashable, CustomStringConvertible {
  /// The errno value (EINVAL, EBUSY, ENOENT, …).
  package var errno: Int32
  /// The host path acted on (without the root).
  package var path: String
  /// What was attempted, e.g. `write '0'`.
  package var action: String

  package var description: String {
    "\(action) to \(path) failed: \(String(cString: strerror(errno))) (errno \(errno))."
  }

  /// Memberwise.
  package init(
    errno: Int32,
    path: String,
    action: String
  ) {
    self.errno = errno
    self.path = path
    self.action = action
  }
}

/// The seam through which every change to the host's kernel state goes.
///
/// `KernelSysfsWriter` gets its errno from the kernel. The tests' fake kernel
/// (`FakeKernelSysfsWriter` in Tests/AgentTestDoubles, installed only in the test build
/// `pvbench-testing`, for any root other than `/`) models the kernel's refusals on a fake
/// tree: offlining the last online CPU and marking every CPU paravirt fail with EINVAL,
/// removing a cgroup with tasks fails with EBUSY, and derived files (`cpu/online`, the
/// effective cpuset files, `/proc/PID/cgroup`) follow the writes the way the kernel's would.
package protocol SysfsWriter: Sendable {
  /// Writes `value` to the host file `path` in one write call.
  func write(_ value: String, to path: String) throws(KernelError)
  /// Creates a cgroup directory.
  func makeDirectory(_ path: String) throws(KernelError)
  /// Removes an empty cgroup directory.
  func removeDirectory(_ path: String) throws(KernelError)
  /// Loads a kernel module with `name=value` parameters (modprobe).
  func loadModule(_ name: String, parameters: [(String, String)]) throws(KernelError)
  /// Unloads a kernel module (rmmod).
  func unloadModule(_ name: String) throws(KernelError)
  /// True when `modprobe name` could find the module for this kernel.
  func moduleAvailable(_ name: String, kernelRelease: String) -> Bool
  /// True when the module is loaded now (`/sys/module/NAME` exists).
  func moduleLoaded(_ name: String) -> Bool
}

/// Writes the kernel's files under a root; errno comes from the kernel.
///
/// Paths are host paths (`/sys/devices/system/cpu/cpu3/online`), resolved under `paths`:
/// for `/` the running kernel's files, for another root (a chroot, a mounted image) the
/// files there as they are. Modules load only into the running kernel, so under another
/// root loading one is refused and none is available.
package struct KernelSysfsWriter: SysfsWriter {
  package let paths: HostPaths

  package init(paths: HostPaths = HostPaths()) { self.paths = paths }

  package func write(_ value: String, to path: String) throws(KernelError) {
    let fd = open(paths.resolve(path), O_WRONLY | O_CLOEXEC)
    if fd < 0 { throw KernelError(errno: errno, path: path, action: "write '\(value)'") }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    while true {
      let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if written >= 0 { return }
      if errno != EINTR { throw KernelError(errno: errno, path: path, action: "write '\(value)'") }
    }
  }

  package func makeDirectory(_ path: String) throws(KernelError) {
    if mkdir(paths.resolve(path), 0o755) != 0 && errno != EEXIST {
      throw KernelError(errno: errno, path: path, action: "mkdir")
    }
  }

  package func removeDirectory(_ path: String) throws(KernelError) {
    if rmdir(paths.resolve(path)) != 0 {
      throw KernelError(errno: errno, path: path, action: "rmdir")
    }
  }

  package func loadModule(_ name: String, parameters: [(String, String)]) throws(KernelError) {
    guard paths.isRealHost else {
      throw KernelError(errno: EPERM, path: "/sys/module/\(name)", action: "modprobe")
    }
    let status = runTool(["modprobe", name] + parameters.map { "\($0.0)=\($0.1)" })
    if status != 0 {
      throw KernelError(errno: EIO, path: "/sys/module/\(name)", action: "modprobe")
    }
  }

  package func unloadModule(_ name: String) throws(KernelError) {
    guard paths.isRealHost else {
      throw KernelError(errno: EPERM, path: "/sys/module/\(name)", action: "rmmod")
    }
    if runTool(["rmmod", name]) != 0 {
      throw KernelError(errno: EBUSY, path: "/sys/module/\(name)", action: "rmmod")
    }
  }

  package func moduleAvailable(_ name: String, kernelRelease: String) -> Bool {
    guard paths.isRealHost else { return false }
    return moduleLoaded(name) || runTool(["modinfo", "-k", kernelRelease, "-n", name]) == 0
  }

  package func moduleLoaded(_ name: String) -> Bool { paths.exists("/sys/module/\(name)") }

  /// Runs a kmod tool (`modprobe`, `rmmod`, `modinfo`); 127 when it is not installed, as
  /// a shell would report.
  private func runTool(_ arguments: [String]) -> Int32 {
    // The sbin folders are searched too: a non-root PATH often lacks them.
    guard let tool = Executables.find(arguments[0], extraDirectories: Executables.systemDirectories)
    else { return 127 }
    return ChildProcess.run(tool, Array(arguments.dropFirst()), timeout: 120).status
  }

}
