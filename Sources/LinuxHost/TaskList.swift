import Foundation

/// The user tasks (thread-group leaders) of a host and the cgroup each is in.
package struct TaskList: Sendable {
  package let paths: HostPaths

  /// A task and its cgroup path relative to the hierarchy root (`/` for the root).
  package struct Task: Sendable, Hashable {
    package var pid: Int
    package var cgroup: String

    /// Memberwise.
    package init(
      pid: Int,
      cgroup: String
    ) {
      self.pid = pid
      self.cgroup = cgroup
    }
  }

  /// PF_KTHREAD in /proc/PID/stat's flags field.
  package static let kernelThreadFlag: UInt64 = 0x0020_0000

  /// Every movable user task: kernel threads (empty cmdline or PF_KTHREAD) are skipped.
  package func userTasks(hierarchy: String, v1: Bool) -> [Task] {
    var tasks: [Task] = []
    for name in paths.list("/proc") {
      guard let pid = Int(name) else { continue }
      guard let cmdline = paths.read("/proc/\(pid)/cmdline"), !cmdline.isEmpty else { continue }
      if let stat = paths.read("/proc/\(pid)/stat"), let flags = TaskList.flags(stat: stat),
        flags & TaskList.kernelThreadFlag != 0
      {
        continue
      }
      guard let cgroup = paths.read("/proc/\(pid)/cgroup") else { continue }
      for line in cgroup.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { continue }
        let matches =
          v1
          ? parts[1].split(separator: ",").contains("cpuset")
          : (parts[0] == "0" && parts[1].isEmpty)
        if matches {
          tasks.append(Task(pid: pid, cgroup: String(parts[2])))
          break
        }
      }
    }
    return tasks.sorted { $0.pid < $1.pid }
  }

  /// The flags field (9th) of a /proc/PID/stat line; the comm field may hold spaces.
  package static func flags(stat: String) -> UInt64? {
    guard let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After "pid (comm)": state ppid pgrp session tty_nr tpgid flags
    guard fields.count > 6 else { return nil }
    return UInt64(fields[6])
  }

  /// Memberwise.
  package init(
    paths: HostPaths
  ) {
    self.paths = paths
  }
}
