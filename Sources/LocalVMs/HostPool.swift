import CPVBenchShims
import Foundation
import LinuxHost
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The host side of a shared-processor pool: the guests' QEMU processes confined to the pool's
/// host CPUs, each in its own cgroup with a CPU weight proportional to its entitlement.
///
/// This mirrors what a PowerVM shared pool gives uncapped LPARs: under contention each guest
/// gets CPU time in proportion to its entitled CPUs; `capped` guests also get a bandwidth
/// limit equal to their entitlement. Cgroups are named `pvbench-<pid>-<guest>` and removed by
/// `close()` (tasks are moved back to the hierarchy's root first). Confinement uses
/// `sched_setaffinity` on every QEMU thread, not cpusets, so it leaves no host state behind.
package final class HostPool: Sendable {
  /// One guest in the pool.
  package struct Member: Sendable, Equatable {
    /// The guest's name.
    package var guest: String
    /// Its QEMU process.
    package var pid: Int32
    /// Entitled CPUs.
    package var entitledCPUs: Double
    /// Whether a bandwidth limit was set.
    package var capped: Bool
    /// Its cgroup folder, nil when the host has no cpu controller.
    package var cgroup: String?
    /// The weight written (`cpu.shares` or `cpu.weight`).
    package var weight: Int?
    /// `pool.model: entitled`: the child cgroup holding the guest's non-entitled vCPU
    /// threads, nil when they share the guest's weight (`fair`, or every vCPU entitled).
    package var spareCgroup: String?
    /// The vCPU threads moved into `spareCgroup`, by guest vCPU number.
    package var spareThreads: [VCPUThread] = []
  }

  /// The name of the child cgroup of a guest's cgroup that holds its non-entitled vCPUs.
  package static let spareCgroupName = "spare"

  /// The host CPUs all guests share.
  package let cpus: [Int32]
  /// The cgroup hierarchy used, nil when none offers the cpu controller.
  package let controller: CgroupCPUController?
  private let members = Mutex<[Member]>([])

  /// Creates an empty pool.
  /// - Parameters:
  ///   - cpus: the host CPUs the guests share (`onlineCPUs()` for all).
  ///   - controller: where to make cgroups; `.detect()` by default.
  package init(cpus: [Int32], controller: CgroupCPUController? = CgroupCPUController.detect()) {
    self.cpus = cpus
    self.controller = controller
  }

  deinit {
    close()
  }

  /// The guests added so far.
  package var guests: [Member] { members.withLock { $0 } }

  /// Adds a guest: confines its threads to the pool CPUs and puts it in its weighted cgroup.
  /// - Throws: `VMError` when a cgroup cannot be created or written, or affinity fails.
  @discardableResult
  package func add(guest: String, pid: Int32, entitledCPUs: Double, capped: Bool = false) throws
    -> Member
  {
    try confine(pid: pid)
    var member = Member(guest: guest, pid: pid, entitledCPUs: entitledCPUs, capped: capped)
    if let controller {
      let folder = controller.root + "/pvbench-\(getpid())-\(guest)"
      if mkdir(folder, 0o755) != 0 && errno != EEXIST {
        throw VMError(
          "Cannot create the cgroup '\(folder)' for guest \(guest): "
            + "\(String(cString: strerror(errno))). Run as root, or run without a pool.")
      }
      member.cgroup = folder
      members.withLock { $0.append(member) }
      let weight = controller.weight(entitledCPUs: entitledCPUs)
      switch controller {
      case .v1:
        try write("\(weight)", to: folder + "/cpu.shares", guest: guest)
        if capped {
          try write("100000", to: folder + "/cpu.cfs_period_us", guest: guest)
          let quota = CgroupCPUController.quotaMicroseconds(entitledCPUs: entitledCPUs)
          try write("\(quota)", to: folder + "/cpu.cfs_quota_us", guest: guest)
        }
      case .v2(let root):
        let control =
          (try? String(contentsOfFile: root + "/cgroup.subtree_control", encoding: .utf8))
        let enabled = (control ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        if !enabled.contains("cpu") {
          try write("+cpu", to: root + "/cgroup.subtree_control", guest: guest)
        }
        try write("\(weight)", to: folder + "/cpu.weight", guest: guest)
        if capped {
          let quota = CgroupCPUController.quotaMicroseconds(entitledCPUs: entitledCPUs)
          try write("\(quota) 100000", to: folder + "/cpu.max", guest: guest)
        }
      }
      member.weight = weight
      try write("\(pid)", to: folder + "/cgroup.procs", guest: guest)
      members.withLock { list in
        if let index = list.firstIndex(where: { $0.guest == guest }) { list[index] = member }
      }
    } else {
      members.withLock { $0.append(member) }
    }
    return member
  }

  /// Moves vCPU threads of a guest already added into the child cgroup `spare` of its
  /// cgroup, with the smallest weight the kernel allows, so they run only on cycles nobody
  /// with a weight wants (`pool.model: entitled`).
  ///
  /// cgroup v1: `cpu.shares` 2, threads written to `tasks`. cgroup v2: the child is made
  /// `threaded` (the guest's cgroup becomes `domain threaded`), `+cpu` is enabled in the
  /// guest's `cgroup.subtree_control`, `cpu.idle` is 1 where the kernel has it (5.15 and
  /// later) and `cpu.weight` 1 otherwise, and threads are written to `cgroup.threads`.
  /// - Parameters:
  ///   - guest: the guest's name, as given to `add`.
  ///   - threads: the vCPU threads to demote (QEMU's `CPU n/TCG` threads).
  /// - Returns: the member with `spareCgroup` and `spareThreads` set; unchanged when the
  ///   host has no cpu controller or `threads` is empty.
  /// - Throws: `VMError` when the guest was not added, or a cgroup file cannot be written.
  @discardableResult
  package func demote(guest: String, threads: [VCPUThread]) throws -> Member {
    guard var member = guests.first(where: { $0.guest == guest }) else {
      throw VMError("Guest \(guest) is not in the host pool, so its vCPUs cannot be demoted.")
    }
    guard let controller, let folder = member.cgroup, !threads.isEmpty else { return member }
    let spare = folder + "/" + Self.spareCgroupName
    if mkdir(spare, 0o755) != 0 && errno != EEXIST {
      throw VMError(
        "Cannot create the cgroup '\(spare)' for the non-entitled vCPUs of guest \(guest): "
          + "\(String(cString: strerror(errno))).")
    }
    member.spareCgroup = spare
    update(member)
    let tasksFile: String
    switch controller {
    case .v1:
      try write("2", to: spare + "/cpu.shares", guest: guest)
      tasksFile = spare + "/tasks"
    case .v2:
      try write("threaded", to: spare + "/cgroup.type", guest: guest)
      let control =
        (try? String(contentsOfFile: folder + "/cgroup.subtree_control", encoding: .utf8))
      if !(control ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu") {
        try write("+cpu", to: folder + "/cgroup.subtree_control", guest: guest)
      }
      if FileManager.default.fileExists(atPath: spare + "/cpu.idle") {
        try write("1", to: spare + "/cpu.idle", guest: guest)
      } else {
        try write("1", to: spare + "/cpu.weight", guest: guest)
      }
      tasksFile = spare + "/cgroup.threads"
    }
    for thread in threads {
      try write("\(thread.tid)", to: tasksFile, guest: guest)
      member.spareThreads.append(thread)
    }
    update(member)
    return member
  }

  private func update(_ member: Member) {
    members.withLock { list in
      if let index = list.firstIndex(where: { $0.guest == member.guest }) {
        list[index] = member
      }
    }
  }

  /// Pins every current thread of `pid` to the pool CPUs (threads made later inherit it).
  /// - Throws: `VMError` when the kernel refuses the CPU list.
  package func confine(pid: Int32) throws {
    let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    for tid in tids.compactMap(Int32.init) {
      let result = cpus.withUnsafeBufferPointer {
        pvb_set_affinity(tid, $0.baseAddress!, Int32($0.count))
      }
      // A thread may exit between listing and pinning; that is not an error.
      if result != 0 && result != -ESRCH {
        let list = cpus.map(String.init).joined(separator: ",")
        throw VMError(
          "Cannot pin thread \(tid) of QEMU \(pid) to the pool CPUs \(list): "
            + "\(String(cString: strerror(-result))).")
      }
    }
  }

  /// Moves every task out of the pool's cgroups and removes them; safe to call twice.
  package func close() {
    let all = members.withLock { list in
      let copy = list
      list.removeAll()
      return copy
    }
    for member in all {
      if let cgroup = member.cgroup, let controller {
        Self.remove(cgroup: cgroup, root: controller.root)
      }
    }
  }

  /// Removes cgroups named `pvbench-<pid>-…` whose pvbench process is gone.
  /// - Returns: the folders removed.
  @discardableResult
  package static func removeLeftovers(controller: CgroupCPUController? = .detect()) -> [String] {
    guard let controller else { return [] }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: controller.root)) ?? []
    var removed: [String] = []
    for name in names where name.hasPrefix("pvbench-") {
      let owner = Int32(name.dropFirst("pvbench-".count).prefix { $0.isNumber }) ?? 0
      guard owner > 0, kill(owner, 0) != 0, errno == ESRCH else { continue }
      remove(cgroup: controller.root + "/" + name, root: controller.root)
      removed.append(controller.root + "/" + name)
    }
    return removed
  }

  /// Removes a guest's cgroup and its child cgroups (`spare`), children first, after
  /// moving every process found in any of them back to the hierarchy's root.
  ///
  /// Whole processes are moved (`cgroup.procs`), which takes the threads of a v1 child and
  /// of a v2 threaded subtree with them; a v2 thread alone cannot leave its threaded subtree.
  private static func remove(cgroup: String, root: String) {
    let children = ((try? FileManager.default.contentsOfDirectory(atPath: cgroup)) ?? [])
      .map { cgroup + "/" + $0 }
      .filter { path in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
          && isDirectory.boolValue
      }
    for _ in 0..<20 {
      for folder in children + [cgroup] {
        let procs = (try? String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8)) ?? ""
        for pid in procs.split(separator: "\n") {
          try? "\(pid)\n".write(toFile: root + "/cgroup.procs", atomically: false, encoding: .utf8)
        }
      }
      for child in children { _ = rmdir(child) }
      if rmdir(cgroup) == 0 || errno == ENOENT { return }
      usleep(50_000)  // An exiting task can keep the group busy for a moment.
    }
  }

  private func write(_ value: String, to path: String, guest: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw VMError(
        "Cannot open '\(path)' for guest \(guest): \(String(cString: strerror(errno))).")
    }
    defer { Glibc.close(fd) }
    let bytes = Array(value.utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else {
      throw VMError(
        "Cannot write '\(value)' to '\(path)' for guest \(guest): "
          + "\(String(cString: strerror(errno))).")
    }
  }

  /// The host's online CPUs (read from `/sys/devices/system/cpu/online`; never written);
  /// cpu0 alone when the file cannot be read.
  package static func onlineCPUs(sysRoot: String = "/sys") -> [Int32] {
    let text =
      (try? String(contentsOfFile: sysRoot + "/devices/system/cpu/online", encoding: .utf8))
    let cpus = text.flatMap { CPUSet.cpus(parsing: $0) } ?? [0]
    return cpus.map(Int32.init)
  }

}
