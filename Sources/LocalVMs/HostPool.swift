import CPVBenchShims
import Foundation
import LinuxHost
import Synchronization
import Vocabulary

#if canImport(Glibc)
  import Glibc
#endif

/// The host side of a shared-processor pool: the guests' QEMU processes confined to the pool's
/// host CPUs, each in its own cgroup, dispatched as `Settings.model` says.
///
/// `add` makes each guest's cgroup, `attach` records its vCPU threads once QEMU has made
/// them, and `configure` applies a model: `dispatch` puts the vCPU threads in a child cgroup
/// `vcpus` with CFS bandwidth per window (PowerVM's dispatch window), `entitled` demotes the
/// non-entitled vCPU threads into a child `spare`, `fair` leaves one weight per guest.
/// `configure` may be called again (a sweep over `pool.model` or `pool.window`): it undoes
/// the previous model first. Cgroups are named `pvbench-<pid>-<guest>` and removed, children
/// first, by `close()` (tasks are moved back to the hierarchy's root first). Confinement uses
/// `sched_setaffinity` on every QEMU thread, not cpusets, so it leaves no host state behind.
package final class HostPool: Sendable {
  /// How the pool dispatches: the model and, for `dispatch`, the window.
  package struct Settings: Sendable, Equatable {
    /// The pool model.
    package var model: PoolModel
    /// `dispatch`: the CFS period, PowerVM's dispatch window (1 ms to 1 s).
    package var windowMicroseconds: Int

    /// PowerVM's window: 10 ms.
    package static let defaultWindowMicroseconds = 10_000

    /// Memberwise.
    package init(model: PoolModel, windowMicroseconds: Int = Self.defaultWindowMicroseconds) {
      self.model = model
      self.windowMicroseconds = windowMicroseconds
    }
  }

  /// One guest in the pool.
  package struct Member: Sendable, Equatable {
    /// The guest's name.
    package var guest: String
    /// Its QEMU process.
    package var pid: Int32
    /// Entitled CPUs.
    package var entitledCPUs: Double
    /// Whether its CPU time is limited to its entitlement.
    package var capped: Bool
    /// PowerVM's uncapped weight (0-255): the guest's share of the pool's unclaimed capacity
    /// under `dispatch` when not capped.
    package var uncappedWeight: Int = 128
    /// Its cgroup folder, nil when the host has no cpu controller.
    package var cgroup: String?
    /// The weight written (`cpu.shares` or `cpu.weight`).
    package var weight: Int?
    /// `fair` and `entitled` with `capped`: the guest cgroup's quota per 100 ms period.
    package var quotaMicroseconds: Int?
    /// `pool.model: entitled`: the child cgroup holding the guest's non-entitled vCPU
    /// threads, nil when they share the guest's weight (`fair`, or every vCPU entitled).
    package var spareCgroup: String?
    /// The vCPU threads moved into `spareCgroup`, by guest vCPU number.
    package var spareThreads: [VCPUThread] = []
    /// Every vCPU thread of the guest (`attach`), by guest vCPU number.
    package var vcpuThreads: [VCPUThread] = []
    /// How many of them are entitled (its lowest whole cores), for `entitled`.
    package var entitledVCPUs: Int = 0
    /// `pool.model: dispatch`: the child cgroup holding the vCPU threads.
    package var vcpuCgroup: String?
    /// `dispatch`: the CPUs' worth of time the vCPU threads may use per window: the
    /// entitlement, plus for an uncapped guest its weighted share of the unclaimed capacity.
    package var dispatchCPUs: Double?
    /// `dispatch`: the CFS quota and period written to `vcpuCgroup` (µs).
    package var dispatchQuotaMicroseconds: Int?
    package var dispatchPeriodMicroseconds: Int?

    /// A guest before its cgroup exists.
    package init(
      guest: String, pid: Int32, entitledCPUs: Double, capped: Bool, uncappedWeight: Int = 128
    ) {
      self.guest = guest
      self.pid = pid
      self.entitledCPUs = entitledCPUs
      self.capped = capped
      self.uncappedWeight = uncappedWeight
    }
  }

  /// The name of the child cgroup of a guest's cgroup that holds its non-entitled vCPUs.
  package static let spareCgroupName = "spare"
  /// The name of the child cgroup of a guest's cgroup that holds its vCPUs under `dispatch`.
  package static let vcpuCgroupName = "vcpus"

  /// The host CPUs all guests share.
  package let cpus: [Int32]
  /// The cgroup hierarchy used, nil when none offers the cpu controller.
  package let controller: CgroupCPUController?
  private let members = Mutex<[Member]>([])
  private let current = Mutex<Settings?>(nil)

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

  /// The settings last applied by `configure`, nil before.
  package var settings: Settings? { current.withLock { $0 } }

  /// Adds a guest: confines its threads to the pool CPUs and puts it in its own cgroup with a
  /// weight proportional to its entitlement. The model's other controls follow in
  /// `configure`, except that `capped` also writes the 100 ms cap of the older models.
  /// - Throws: `VMError` when a cgroup cannot be created or written, or affinity fails.
  @discardableResult
  package func add(
    guest: String, pid: Int32, entitledCPUs: Double, capped: Bool = false,
    uncappedWeight: Int = 128
  ) throws -> Member {
    try confine(pid: pid)
    var member = Member(
      guest: guest, pid: pid, entitledCPUs: entitledCPUs, capped: capped,
      uncappedWeight: uncappedWeight)
    if let controller {
      let folder = controller.root + "/pvbench-\(getpid())-\(guest)"
      if mkdir(folder, 0o755) != 0 && errno != EEXIST {
        throw VMError(
          "Cannot create the cgroup '\(folder)' for guest \(guest): "
            + "\(String(cString: strerror(errno))). Run as root, or run without a pool.")
      }
      member.cgroup = folder
      members.withLock { $0.append(member) }
      if case .v2(let root) = controller {
        try enableCPU(in: root, guest: guest)
      }
      member.weight = try writeWeight(
        controller.weight(entitledCPUs: entitledCPUs), folder: folder, guest: guest)
      if capped {
        member.quotaMicroseconds = try writeGuestCap(
          entitledCPUs: entitledCPUs, folder: folder, guest: guest)
      }
      try write("\(pid)", to: folder + "/cgroup.procs", guest: guest)
      update(member)
    } else {
      members.withLock { $0.append(member) }
    }
    return member
  }

  /// Records a guest's vCPU threads, for `configure` to place.
  /// - Parameters:
  ///   - guest: the guest's name, as given to `add`.
  ///   - threads: its vCPU threads (QEMU's `CPU n/TCG`), by vCPU number.
  ///   - entitledVCPUs: how many of them are entitled (the lowest-numbered).
  /// - Throws: `VMError` when the guest was not added.
  package func attach(guest: String, threads: [VCPUThread], entitledVCPUs: Int) throws {
    guard var member = guests.first(where: { $0.guest == guest }) else {
      throw VMError("Guest \(guest) is not in the host pool, so its vCPUs cannot be placed.")
    }
    member.vcpuThreads = threads
    member.entitledVCPUs = entitledVCPUs
    update(member)
  }

  /// The CPUs' worth of time per window each guest's vCPUs may use under `dispatch`
  /// (`PoolClaim.dispatchCPUs`).
  /// - Parameters:
  ///   - members: the pool's guests.
  ///   - poolCPUs: the host CPUs of the pool.
  /// - Returns: CPUs per guest name.
  package static func dispatchCPUs(members: [Member], poolCPUs: Int) -> [String: Double] {
    PoolClaim.dispatchCPUs(
      members.map {
        PoolClaim(
          guest: $0.guest, entitled: $0.entitledCPUs, capped: $0.capped,
          uncappedWeight: $0.uncappedWeight)
      }, poolCPUs: poolCPUs)
  }

  /// Applies `settings` to every guest, undoing the model applied before (threads moved back
  /// into the guest's cgroup, child cgroups removed, caps lifted). Guests without
  /// attached vCPU threads get only their weight.
  ///
  /// `dispatch`: the guest's weight ∝ its dispatch CPUs (`dispatchCPUs`), and a child
  /// `vcpus` holding its vCPU threads with CFS period = window and quota = dispatch CPUs ×
  /// window (v1 `cpu.cfs_period_us`/`cpu.cfs_quota_us`, threads in `tasks`; v2 a threaded
  /// child with `cpu.max` = "quota period", threads in `cgroup.threads`). QEMU's other
  /// threads stay in the guest's cgroup, outside the quota.
  /// - Throws: `VMError` when a cgroup file cannot be written.
  package func configure(_ settings: Settings) throws {
    guard controller != nil else {
      current.withLock { $0 = settings }
      return
    }
    for member in guests { try undo(member) }
    let shares = Self.dispatchCPUs(members: guests, poolCPUs: cpus.count)
    for var member in guests {
      guard let folder = member.cgroup, let controller else { continue }
      switch settings.model {
      case .fair, .entitled:
        member.weight = try writeWeight(
          controller.weight(entitledCPUs: member.entitledCPUs), folder: folder,
          guest: member.guest)
        if member.capped {
          member.quotaMicroseconds = try writeGuestCap(
            entitledCPUs: member.entitledCPUs, folder: folder, guest: member.guest)
        }
        update(member)
        if settings.model == .entitled, member.entitledVCPUs < member.vcpuThreads.count {
          try demote(
            guest: member.guest,
            threads: member.vcpuThreads.filter { $0.index >= member.entitledVCPUs })
        }
      case .dispatch:
        let cpus = shares[member.guest] ?? member.entitledCPUs
        member.weight = try writeWeight(
          controller.weight(entitledCPUs: cpus), folder: folder, guest: member.guest)
        member.dispatchCPUs = cpus
        update(member)
        if !member.vcpuThreads.isEmpty {
          try dispatch(
            member, cpus: cpus, windowMicroseconds: settings.windowMicroseconds)
        }
      }
    }
    current.withLock { $0 = settings }
  }

  /// Puts a guest's vCPU threads in its `vcpus` child with bandwidth `cpus` × window.
  private func dispatch(_ member: Member, cpus: Double, windowMicroseconds: Int) throws {
    guard let controller, let folder = member.cgroup else { return }
    var member = member
    let child = folder + "/" + Self.vcpuCgroupName
    if mkdir(child, 0o755) != 0 && errno != EEXIST {
      throw VMError(
        "Cannot create the cgroup '\(child)' for the vCPUs of guest \(member.guest): "
          + "\(String(cString: strerror(errno))).")
    }
    member.vcpuCgroup = child
    update(member)
    let quota = CgroupCPUController.quotaMicroseconds(
      entitledCPUs: cpus, periodMicroseconds: windowMicroseconds)
    let tasksFile: String
    switch controller {
    case .v1:
      // The quota is lifted first: a new period under an old quota may be refused.
      try write("-1", to: child + "/cpu.cfs_quota_us", guest: member.guest)
      try write("\(windowMicroseconds)", to: child + "/cpu.cfs_period_us", guest: member.guest)
      try write("\(quota)", to: child + "/cpu.cfs_quota_us", guest: member.guest)
      tasksFile = child + "/tasks"
    case .v2:
      try write("threaded", to: child + "/cgroup.type", guest: member.guest)
      try enableCPU(in: folder, guest: member.guest)
      try write("\(quota) \(windowMicroseconds)", to: child + "/cpu.max", guest: member.guest)
      tasksFile = child + "/cgroup.threads"
    }
    member.dispatchQuotaMicroseconds = quota
    member.dispatchPeriodMicroseconds = windowMicroseconds
    for thread in member.vcpuThreads {
      try write("\(thread.tid)", to: tasksFile, guest: member.guest)
    }
    update(member)
  }

  /// Moves a guest's vCPU threads back into its cgroup, removes its children and lifts a
  /// cap, so another model can be applied.
  private func undo(_ member: Member) throws {
    guard let controller, let folder = member.cgroup else { return }
    var member = member
    let threadsFile: String
    switch controller {
    case .v1: threadsFile = folder + "/tasks"
    case .v2: threadsFile = folder + "/cgroup.threads"
    }
    for child in [member.spareCgroup, member.vcpuCgroup].compactMap({ $0 }) {
      let moved =
        child == member.spareCgroup ? member.spareThreads : member.vcpuThreads
      for thread in moved {
        // A thread that exited meanwhile is not an error.
        try? write("\(thread.tid)", to: threadsFile, guest: member.guest)
      }
      _ = rmdir(child)
    }
    member.spareCgroup = nil
    member.spareThreads = []
    member.vcpuCgroup = nil
    member.dispatchCPUs = nil
    member.dispatchQuotaMicroseconds = nil
    member.dispatchPeriodMicroseconds = nil
    if member.quotaMicroseconds != nil {
      switch controller {
      case .v1: try write("-1", to: folder + "/cpu.cfs_quota_us", guest: member.guest)
      case .v2: try write("max 100000", to: folder + "/cpu.max", guest: member.guest)
      }
      member.quotaMicroseconds = nil
    }
    update(member)
  }

  private func writeWeight(_ weight: Int, folder: String, guest: String) throws -> Int {
    switch controller {
    case .v1?: try write("\(weight)", to: folder + "/cpu.shares", guest: guest)
    case .v2?: try write("\(weight)", to: folder + "/cpu.weight", guest: guest)
    case nil: break
    }
    return weight
  }

  /// The older models' cap: the guest's whole cgroup limited to its entitlement per 100 ms.
  private func writeGuestCap(entitledCPUs: Double, folder: String, guest: String) throws -> Int {
    let quota = CgroupCPUController.quotaMicroseconds(entitledCPUs: entitledCPUs)
    switch controller {
    case .v1?:
      try write("100000", to: folder + "/cpu.cfs_period_us", guest: guest)
      try write("\(quota)", to: folder + "/cpu.cfs_quota_us", guest: guest)
    case .v2?: try write("\(quota) 100000", to: folder + "/cpu.max", guest: guest)
    case nil: break
    }
    return quota
  }

  /// cgroup v2: enables `cpu` in `folder`'s `cgroup.subtree_control` unless it is on.
  private func enableCPU(in folder: String, guest: String) throws {
    let control =
      (try? String(contentsOfFile: folder + "/cgroup.subtree_control", encoding: .utf8))
    if !(control ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).contains("cpu") {
      try write("+cpu", to: folder + "/cgroup.subtree_control", guest: guest)
    }
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
      try enableCPU(in: folder, guest: guest)
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

  /// Removes a guest's cgroup and its child cgroups (`spare`, `vcpus`), children first, after
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

  /// The host's online CPUs (`HostPaths.onlineCPUs`), as `sched_setaffinity` takes them.
  package static func onlineCPUs(paths: HostPaths = HostPaths()) -> [Int32] {
    paths.onlineCPUs().cpus.map(Int32.init)
  }

}
