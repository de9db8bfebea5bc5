/// Where a host's cpuset controller lives and what its files are called.
///
/// cgroup v1 and v2 name the same things differently: v2 has one hierarchy at
/// `/sys/fs/cgroup` whose cgroups show the CPUs they may use in `cpuset.cpus.effective`;
/// a v1 cpuset hierarchy is mounted at `/sys/fs/cgroup/cpuset` and calls that file
/// `cpuset.effective_cpus` (and needs `cpuset.mems` set before a task may join a cgroup).
/// See the kernel's Documentation/admin-guide/cgroup-v2.rst ("Cpuset Interface Files")
/// and Documentation/admin-guide/cgroup-v1/cpusets.rst (section 1.3).
package struct CpusetHierarchy: Sendable, Hashable {
  /// The hierarchy's version.
  package var version: HostFacts.CgroupVersion
  /// The hierarchy's root folder (a host path).
  package var root: String

  /// The hierarchy of `version`, or nil for `.none`.
  package init?(_ version: HostFacts.CgroupVersion) {
    switch version {
    case .v1: root = HostPaths.cgroupRoot + "/cpuset"
    case .v2: root = HostPaths.cgroupRoot
    case .none: return nil
    }
    self.version = version
  }

  /// The hierarchy that holds `path` (a cgroup folder or file), judged by its location.
  package init?(containing path: String) {
    let v1Root = HostPaths.cgroupRoot + "/cpuset"
    if path == v1Root || path.hasPrefix(v1Root + "/") {
      self.init(.v1)
    } else if path == HostPaths.cgroupRoot || path.hasPrefix(HostPaths.cgroupRoot + "/") {
      self.init(.v2)
    } else {
      return nil
    }
  }

  /// The name of the file with the CPUs a cgroup's tasks may run on, as the kernel computes
  /// them (`cpuset.effective_cpus` on v1, `cpuset.cpus.effective` on v2).
  package var effectiveCPUsFile: String {
    version == .v1 ? "cpuset.effective_cpus" : "cpuset.cpus.effective"
  }

  /// The name of the file with the memory nodes a cgroup's tasks may use, as computed.
  package var effectiveMemsFile: String {
    version == .v1 ? "cpuset.effective_mems" : "cpuset.mems.effective"
  }

  /// The cgroup path of `folder` relative to the root, as `/proc/PID/cgroup` shows it.
  package func relative(_ folder: String) -> String {
    let tail = String(folder.dropFirst(root.count))
    return tail.isEmpty ? "/" : tail
  }

  /// The folder of the cgroup `relative` (a path as `/proc/PID/cgroup` shows it).
  package func folder(_ relative: String) -> String {
    relative == "/" ? root : root + relative
  }
}
