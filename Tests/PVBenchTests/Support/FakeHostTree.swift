import Foundation
import HostAgent
import LinuxHost
import PVBenchTestSupport
import Results

/// Builds a temporary host tree in the kernel's real file formats for mode tests.
///
/// Nothing here touches this machine's /sys or /proc: every file lives under `root`.
struct FakeHostTree {
  enum Cgroup { case v1, v2, none }

  /// A task the tree holds in /proc and in a cgroup.
  struct Task {
    var pid: Int
    var cmdline: String
    var kernelThread = false
    var cgroup = "/user.slice"
  }

  let root: String
  var paths: HostPaths { HostPaths(root: root) }

  /// Writes a host with `cores` cores of `threadsPerCore` siblings.
  init(
    cores: Int = 4, threadsPerCore: Int = 2, paravirt: Bool = true,
    paravirtWritable: Bool = true, vpManualHint: Bool = false,
    cgroup: Cgroup = .v2, stealGovernorModule: Bool = false, entitledCapacity: Int? = nil,
    cpu0Hotpluggable: Bool = false, tasks: [Task]? = nil, kernelRelease: String = "6.18.0-pvtest"
  ) throws {
    root = NSTemporaryDirectory() + "pvbench-fake-\(UUID().uuidString)"
    let count = cores * threadsPerCore
    let all = CPUSet.format(0..<count)
    let cpu = HostPaths.cpuDirectory
    try write("/proc/sys/kernel/osrelease", kernelRelease + "\n")
    try write("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda quiet\n")
    var stat = "cpu  100 0 100 1000 0 0 0 0 0 0\n"
    for index in 0..<count { stat += "cpu\(index) 10 0 10 100 0 0 0 \(index) 0 0\n" }
    try write("/proc/stat", stat + "intr 0\nctxt 0\n")
    for name in ["online", "present", "possible"] { try write("\(cpu)/\(name)", all + "\n") }
    for index in 0..<count {
      let core = index / threadsPerCore
      let siblings = CPUSet.format((core * threadsPerCore)..<((core + 1) * threadsPerCore))
      try write("\(cpu)/cpu\(index)/topology/thread_siblings_list", siblings + "\n")
      try write("\(cpu)/cpu\(index)/topology/core_id", "\(core)\n")
      if index > 0 || cpu0Hotpluggable { try write(HostPaths.cpuOnline(index), "1\n") }
    }
    if paravirt {
      try write(HostPaths.paravirt, "\n")
      // The series' file is read-only (0444) unless its debug patch 16/17 adds a write
      // method (docs/modes.md, "The fake kernel").
      chmod(root + HostPaths.paravirt, paravirtWritable ? 0o644 : 0o444)
    }
    if vpManualHint { try write(HostPaths.vpManualHint, "\(count)\n") }
    if stealGovernorModule {
      try write("/lib/modules/\(kernelRelease)/extra/steal_governor.ko", "")
    }
    if let entitledCapacity {
      try write(
        HostPaths.lparcfg,
        "lparcfg 1.9\npartition_id=1\npartition_entitled_capacity=\(entitledCapacity * 100)\n")
    }
    try write("/dev/kmsg", "")
    try FileManager.default.createDirectory(
      atPath: root + "/sys/module", withIntermediateDirectories: true)
    let taskList =
      tasks ?? [
        Task(pid: 1, cmdline: "/sbin/init\0", cgroup: "/init.scope"),
        Task(pid: 2, cmdline: "", kernelThread: true, cgroup: "/"),
        Task(pid: 300, cmdline: "sshd\0", cgroup: "/system.slice/ssh.service"),
        Task(pid: 400, cmdline: "bash\0", cgroup: "/user.slice"),
      ]
    let cg = HostPaths.cgroupRoot
    switch cgroup {
    case .v2:
      try write("\(cg)/cgroup.controllers", "cpuset cpu io memory pids\n")
      try write("\(cg)/cgroup.subtree_control", "cpu memory pids\n")
      try write("\(cg)/cpuset.cpus.effective", all + "\n")
      try write("\(cg)/cpuset.mems.effective", "0\n")
      try write("\(cg)/cgroup.procs", "")
      for group in Set(taskList.map(\.cgroup)) where group != "/" {
        try write("\(cg)\(group)/cgroup.procs", "")
        try write("\(cg)\(group)/cgroup.controllers", "cpu memory pids\n")
      }
    case .v1:
      // The files of a real v1 cpuset root (cgroup-v1/cpusets.rst 1.3).
      try write("\(cg)/cpuset/cpuset.cpus", all + "\n")
      try write("\(cg)/cpuset/cpuset.effective_cpus", all + "\n")
      try write("\(cg)/cpuset/cpuset.mems", "0\n")
      try write("\(cg)/cpuset/cpuset.effective_mems", "0\n")
      try write("\(cg)/cpuset/cgroup.procs", "")
      try write("\(cg)/cpuset/tasks", "")
    case .none:
      break
    }
    for task in taskList {
      try write("/proc/\(task.pid)/cmdline", task.cmdline)
      let flags = task.kernelThread ? 0x0020_8040 : 0x0040_0100
      try write(
        "/proc/\(task.pid)/stat",
        "\(task.pid) (\(task.kernelThread ? "kthreadd" : "some task")) S 0 1 1 0 -1 \(flags) 0 0\n")
      let inCgroup = cgroup == .v1 ? "/" : task.cgroup
      try write(
        "/proc/\(task.pid)/cgroup",
        cgroup == .v1 ? "5:cpuset:\(inCgroup)\n" : "0::\(inCgroup)\n")
      if cgroup != .none {
        let hierarchy = cgroup == .v1 ? "\(cg)/cpuset" : cg
        let procs = "\(hierarchy)\(inCgroup == "/" ? "" : inCgroup)/cgroup.procs"
        let pids =
          ((paths.read(procs) ?? "").split(separator: "\n").compactMap { Int($0) }
          + [task.pid]).sorted()
        try write(procs, pids.map { "\($0)\n" }.joined())
        if cgroup == .v1 {
          let tasks = (procs as NSString).deletingLastPathComponent + "/tasks"
          try write(tasks, pids.map { "\($0)\n" }.joined())
        }
      }
    }
  }

  /// Writes a file under the root, creating folders.
  func write(_ path: String, _ contents: String) throws {
    let url = URL(fileURLWithPath: root + path)
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(contents.utf8).write(to: url)
  }

  /// Reads a file under the root (empty when missing).
  func read(_ path: String) -> String { paths.read(path) ?? "" }

  /// Every file under the root and its contents, except the journal folder.
  func snapshot() -> [String: String] {
    var result: [String: String] = [:]
    guard let enumerator = FileManager.default.enumerator(atPath: root) else { return result }
    while let file = enumerator.nextObject() as? String {
      let path = "/" + file
      if path.hasPrefix(HostPaths.journalDirectory) || path == "/run" { continue }
      var isDirectory: ObjCBool = false
      _ = FileManager.default.fileExists(atPath: root + path, isDirectory: &isDirectory)
      result[path] = isDirectory.boolValue ? "<dir>" : read(path)
    }
    return result
  }

  /// The paths whose contents differ between two snapshots (short failure messages).
  static func differences(_ a: [String: String], _ b: [String: String]) -> [String] {
    Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted().map {
      "\($0): \(a[$0].map { "'\($0)'" } ?? "missing") vs \(b[$0].map { "'\($0)'" } ?? "missing")"
    }
  }

  /// Deletes the tree.
  func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// The built `pvbench` binary next to the test bundle.
enum BuiltBinary {
  static var path: String { CLI.binary.path }
}
