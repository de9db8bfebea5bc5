import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import Results
import Testing

@Suite(.serialized) struct VMHostPoolTests {
  @Test func detectPrefersV2WithCpuElseV1() {
    let mounts = """
      cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
      cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0
      cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
      """
    let noCpu = CgroupCPUController.detect(mounts: mounts) { _ in "pids memory\n" }
    #expect(noCpu == .v1(root: "/sys/fs/cgroup/cpu,cpuacct"))
    let withCpu = CgroupCPUController.detect(mounts: mounts) { _ in "cpuset cpu io memory\n" }
    #expect(withCpu == .v2(root: "/sys/fs/cgroup/unified"))
    #expect(CgroupCPUController.detect(mounts: "proc /proc proc rw 0 0") { _ in nil } == nil)
  }

  @Test func weightsAreProportionalToEntitlement() {
    let v1 = CgroupCPUController.v1(root: "/x")
    let v2 = CgroupCPUController.v2(root: "/x")
    #expect(v1.weight(entitledCPUs: 1) == 1024)
    #expect(v1.weight(entitledCPUs: 2.5) == 2560)
    #expect(v2.weight(entitledCPUs: 1) == 100)
    #expect(v2.weight(entitledCPUs: 500) == 10_000)
    #expect(v2.weight(entitledCPUs: 0) == 1)
    #expect(CgroupCPUController.quotaMicroseconds(entitledCPUs: 1.5) == 150_000)
  }

  @Test func leftoverGuestFoldersOfDeadRunsAreRemovedAndLiveOnesKept() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-leftovers-\(getpid())"
    ).path
    defer { try? FileManager.default.removeItem(atPath: root) }
    // pid 999999 runs nothing (pid_max is 4194304 at most, and this one is free in tests
    // that create no process of that number); this process is alive.
    let dead = root + "/pvbench-vm-999999-vm1-abc"
    let alive = root + "/pvbench-vm-\(getpid())-vm1-def"
    let other = root + "/not-a-guest"
    for folder in [dead, alive, other] {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    #expect(VMCache.removeLeftoverFolders(temporaryRoot: root) == [dead])
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: alive))
    #expect(FileManager.default.fileExists(atPath: other))
  }

  @Test func onlineCPUsComeFromTheSysfsCpulist() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-pool-online-\(getpid())"
    ).path
    defer { try? FileManager.default.removeItem(atPath: root) }
    try FileManager.default.createDirectory(
      atPath: root + "/sys/devices/system/cpu", withIntermediateDirectories: true)
    try "0-3,8\n".write(
      toFile: root + "/sys/devices/system/cpu/online", atomically: true, encoding: .utf8)
    #expect(HostPool.onlineCPUs(paths: HostPaths(root: root)) == [0, 1, 2, 3, 8])
    #expect(HostPool.onlineCPUs(paths: HostPaths(root: root + "/missing")) == [0])
  }

  /// The v2 path against a fake hierarchy (this host's v2 has no cpu controller): the files a
  /// real cgroup folder would have are made beforehand, then the written values are checked.
  @Test func v2WritesWeightMaxAndEnablesTheCpuController() throws {
    let root = try VMTestSupport.temporaryFolder("cg2")
    defer { VMTestSupport.remove(root) }
    let folder = root + "/pvbench-\(getpid())-g"
    try makeCgroup(folder, files: ["cpu.weight", "cpu.max", "cgroup.procs"])
    for file in ["cgroup.subtree_control", "cgroup.procs"] {
      try #require(FileManager.default.createFile(atPath: root + "/" + file, contents: nil))
    }
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v2(root: root))
    let member = try pool.add(guest: "g", pid: getpid(), entitledCPUs: 1.5, capped: true)
    #expect(member.weight == 150)
    #expect(try String(contentsOfFile: folder + "/cpu.weight", encoding: .utf8) == "150")
    #expect(try String(contentsOfFile: folder + "/cpu.max", encoding: .utf8) == "150000 100000")
    #expect(try String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8) == "\(getpid())")
    #expect(
      try String(contentsOfFile: root + "/cgroup.subtree_control", encoding: .utf8) == "+cpu")
  }

  /// Makes the files a real cgroup folder has, so a fake hierarchy accepts the writes.
  private func makeCgroup(_ folder: String, files: [String]) throws {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for file in files {
      try #require(FileManager.default.createFile(atPath: folder + "/" + file, contents: nil))
    }
  }

  private func read(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
  }

  /// `pool.model: entitled` under cgroup v1: the guest keeps its weight, the non-entitled
  /// vCPU threads go into `spare` with `cpu.shares` 2.
  @Test func v1DemotesNonEntitledVCPUsIntoASpareChildWithTheMinimumShares() throws {
    let root = try VMTestSupport.temporaryFolder("cg1spare")
    defer { VMTestSupport.remove(root) }
    let folder = root + "/pvbench-\(getpid())-g"
    try makeCgroup(folder, files: ["cpu.shares", "cgroup.procs"])
    try makeCgroup(folder + "/spare", files: ["cpu.shares", "tasks"])
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v1(root: root))
    try pool.add(guest: "g", pid: getpid(), entitledCPUs: 1)
    let member = try pool.demote(guest: "g", threads: [VCPUThread(index: 1, tid: 4242)])
    #expect(member.weight == 1024)
    #expect(member.spareCgroup == folder + "/spare")
    #expect(member.spareThreads == [VCPUThread(index: 1, tid: 4242)])
    #expect(pool.guests == [member])
    #expect(try read(folder + "/cpu.shares") == "1024")
    #expect(try read(folder + "/spare/cpu.shares") == "2")
    #expect(try read(folder + "/spare/tasks") == "4242")
  }

  /// The v2 layout: `spare` is a threaded child with `cpu.idle` 1 where the kernel has it,
  /// `cpu.weight` 1 where not, and `+cpu` enabled in the guest's subtree.
  @Test(arguments: [true, false])
  func v2DemotesIntoAThreadedChildWithIdleOrMinimumWeight(hasIdle: Bool) throws {
    let root = try VMTestSupport.temporaryFolder("cg2spare")
    defer { VMTestSupport.remove(root) }
    let folder = root + "/pvbench-\(getpid())-g"
    try makeCgroup(root, files: ["cgroup.subtree_control", "cgroup.procs"])
    try makeCgroup(folder, files: ["cpu.weight", "cgroup.procs", "cgroup.subtree_control"])
    try makeCgroup(
      folder + "/spare",
      files: ["cgroup.type", "cgroup.threads", "cpu.weight"] + (hasIdle ? ["cpu.idle"] : []))
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v2(root: root))
    try pool.add(guest: "g", pid: getpid(), entitledCPUs: 2)
    let member = try pool.demote(guest: "g", threads: [VCPUThread(index: 2, tid: 77)])
    #expect(member.spareCgroup == folder + "/spare")
    #expect(try read(folder + "/cpu.weight") == "200")
    #expect(try read(folder + "/cgroup.subtree_control") == "+cpu")
    #expect(try read(folder + "/spare/cgroup.type") == "threaded")
    #expect(try read(folder + "/spare/cgroup.threads") == "77")
    if hasIdle {
      #expect(try read(folder + "/spare/cpu.idle") == "1")
      #expect(try read(folder + "/spare/cpu.weight") == "")
    } else {
      #expect(try read(folder + "/spare/cpu.weight") == "1")
    }
  }

  @Test func demotingAGuestNotInThePoolIsAnError() throws {
    let root = try VMTestSupport.temporaryFolder("cg1none")
    defer { VMTestSupport.remove(root) }
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v1(root: root))
    #expect(
      throws: VMError("Guest g is not in the host pool, so its vCPUs cannot be demoted.")
    ) {
      try pool.demote(guest: "g", threads: [VCPUThread(index: 1, tid: 1)])
    }
  }

  @Test func entitledVCPUsAreTheLowestWholeCoresWithTheirSiblings() {
    func count(_ vcpus: Int, _ entitled: Double, threads: Int = 1) -> Int {
      GuestRequest(
        name: "g", vcpus: vcpus, memoryMiB: 128, entitledCPUs: entitled, threadsPerCore: threads
      ).entitledVCPUs
    }
    #expect(count(2, 1) == 1)
    #expect(count(4, 2, threads: 2) == 4)
    #expect(count(8, 1, threads: 2) == 2)
    #expect(count(4, 0.5) == 1)
    #expect(count(2, 4) == 2)
  }

  /// A dead run's guest cgroup with its `spare` and `vcpus` children, in the real v1 cpu
  /// hierarchy (empty groups; no task is moved): the leftover cleaner removes all three.
  @Test(.enabled(if: getuid() == 0 && CgroupCPUController.detect() != nil))
  func leftoverCleanerRemovesTheChildCgroupsToo() throws {
    let controller = try #require(CgroupCPUController.detect())
    let folder = controller.root + "/pvbench-999999-leftover"
    #expect(mkdir(folder, 0o755) == 0)
    #expect(mkdir(folder + "/spare", 0o755) == 0)
    #expect(mkdir(folder + "/vcpus", 0o755) == 0)
    defer {
      rmdir(folder + "/spare")
      rmdir(folder + "/vcpus")
      rmdir(folder)
    }
    let removed = HostPool.removeLeftovers(controller: controller)
    #expect(removed.contains(folder))
    #expect(!FileManager.default.fileExists(atPath: folder))
  }

  @Test func missingCgroupFileIsAClearError() throws {
    let root = try VMTestSupport.temporaryFolder("cg1")
    defer { VMTestSupport.remove(root) }
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v1(root: root))
    #expect(
      throws: VMError(
        "Cannot open '\(root)/pvbench-\(getpid())-g/cpu.shares' for guest g: "
          + "No such file or directory.")
    ) {
      try pool.add(guest: "g", pid: getpid(), entitledCPUs: 1)
    }
    pool.close()
    #expect(!FileManager.default.fileExists(atPath: root + "/pvbench-\(getpid())-g"))
  }

  /// Real cgroups on this host (the cpu controller, never cpusets) around a `sleep` child.
  @Test(.enabled(if: CgroupCPUController.detect() != nil && getuid() == 0))
  func poolWeighsCapsPinsAndRemovesItsCgroups() throws {
    let child = try SleepingChild()
    defer { child.stop() }
    let pid = child.pid
    let controller = try #require(CgroupCPUController.detect())
    let cpu = HostPool.onlineCPUs().first ?? 0
    let pool = HostPool(cpus: [cpu], controller: controller)
    let member = try pool.add(guest: "t1", pid: pid, entitledCPUs: 2, capped: true)
    let folder = controller.root + "/pvbench-\(getpid())-t1"
    #expect(member.cgroup == folder)
    let procCgroup = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
    #expect(procCgroup.contains("/pvbench-\(getpid())-t1"))
    switch controller {
    case .v1:
      #expect(try String(contentsOfFile: folder + "/cpu.shares", encoding: .utf8) == "2048\n")
      #expect(
        try String(contentsOfFile: folder + "/cpu.cfs_quota_us", encoding: .utf8) == "200000\n")
    case .v2:
      #expect(try String(contentsOfFile: folder + "/cpu.weight", encoding: .utf8) == "200\n")
      #expect(try String(contentsOfFile: folder + "/cpu.max", encoding: .utf8) == "200000 100000\n")
    }
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    #expect(status.contains("Cpus_allowed_list:\t\(cpu)\n"))
    pool.close()
    #expect(!FileManager.default.fileExists(atPath: folder))
    let after = try String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)
    #expect(!after.contains("pvbench-"))
    #expect(pool.guests.isEmpty)
  }

  /// The kill -9 path against a fake root: empty folders stand in for the groups of a dead
  /// run (children `vcpus` and `spare`) and of this live process; only the dead one goes.
  @Test func leftoverCleanerRemovesDeadRunsWithTheirChildrenUnderAnyRoot() throws {
    let root = try VMTestSupport.temporaryFolder("cgleft")
    defer { VMTestSupport.remove(root) }
    let dead = root + "/pvbench-999999-vm1"
    let alive = root + "/pvbench-\(getpid())-vm1"
    for folder in [dead + "/vcpus", dead + "/spare", alive + "/vcpus", root + "/other"] {
      try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }
    #expect(HostPool.removeLeftovers(controller: .v1(root: root)) == [dead])
    #expect(!FileManager.default.fileExists(atPath: dead))
    #expect(FileManager.default.fileExists(atPath: alive + "/vcpus"))
    #expect(FileManager.default.fileExists(atPath: root + "/other"))
  }

  @Test func dispatchSharesUnclaimedCapacityByUncappedWeight() {
    func member(_ name: String, _ entitled: Double, capped: Bool = false, weight: Int = 128)
      -> HostPool.Member
    {
      HostPool.Member(
        guest: name, pid: 0, entitledCPUs: entitled, capped: capped, uncappedWeight: weight)
    }
    // 4 CPUs, 2.5 entitled: 1.5 unclaimed, split 2:1 between the uncapped guests.
    let shares = HostPool.dispatchCPUs(
      members: [
        member("a", 1, weight: 200), member("b", 0.5, weight: 100), member("c", 1, capped: true),
      ], poolCPUs: 4)
    #expect(shares == ["a": 2, "b": 1, "c": 1])
    // Weight 0 takes no spare; nothing unclaimed leaves every guest its entitlement.
    #expect(
      HostPool.dispatchCPUs(members: [member("a", 1, weight: 0), member("b", 0.5)], poolCPUs: 2)
        == ["a": 1, "b": 1])
    #expect(
      HostPool.dispatchCPUs(members: [member("a", 1), member("b", 1)], poolCPUs: 2)
        == ["a": 1, "b": 1])
  }

  /// `dispatch` under cgroup v1: the guest's weight, and its vCPU threads in `vcpus` with
  /// period = window and quota = dispatch CPUs × window; QEMU's process stays in the guest
  /// group. The pool has this machine's CPUs (2 or more): the lone uncapped guest, entitled
  /// 1.5, also gets the unclaimed rest.
  @Test func v1DispatchPutsVCPUThreadsInABandwidthChild() throws {
    let root = try VMTestSupport.temporaryFolder("cg1dispatch")
    defer { VMTestSupport.remove(root) }
    let folder = root + "/pvbench-\(getpid())-g"
    try makeCgroup(folder, files: ["cpu.shares", "cgroup.procs", "tasks"])
    try makeCgroup(
      folder + "/vcpus", files: ["cpu.cfs_period_us", "cpu.cfs_quota_us", "tasks"])
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v1(root: root))
    try pool.add(guest: "g", pid: getpid(), entitledCPUs: 1.5)
    try pool.attach(guest: "g", threads: [VCPUThread(index: 0, tid: 4242)], entitledVCPUs: 2)
    try pool.configure(.init(model: .dispatch, windowMicroseconds: 20_000))
    let member = try #require(pool.guests.first)
    #expect(member.vcpuCgroup == folder + "/vcpus")
    let cpus = HostPool.onlineCPUs().count
    #expect(member.dispatchCPUs == Double(cpus))
    #expect(member.dispatchQuotaMicroseconds == cpus * 20_000)
    #expect(member.dispatchPeriodMicroseconds == 20_000)
    #expect(try read(folder + "/cpu.shares") == "\(cpus * 1024)")
    #expect(try read(folder + "/cgroup.procs") == "\(getpid())")
    #expect(try read(folder + "/vcpus/cpu.cfs_period_us") == "20000")
    #expect(try read(folder + "/vcpus/cpu.cfs_quota_us") == "\(cpus * 20_000)")
    #expect(try read(folder + "/vcpus/tasks") == "4242")
    #expect(pool.settings == .init(model: .dispatch, windowMicroseconds: 20_000))
    // Another model moves the thread back to the guest's group first.
    try pool.configure(.init(model: .fair))
    #expect(try read(folder + "/tasks") == "4242")
    #expect(pool.guests.first?.vcpuCgroup == nil)
  }

  /// `dispatch` under cgroup v2: `vcpus` is a threaded child with `cpu.max`.
  @Test func v2DispatchWritesCpuMaxInAThreadedChild() throws {
    let root = try VMTestSupport.temporaryFolder("cg2dispatch")
    defer { VMTestSupport.remove(root) }
    let folder = root + "/pvbench-\(getpid())-g"
    try makeCgroup(root, files: ["cgroup.subtree_control", "cgroup.procs"])
    try makeCgroup(folder, files: ["cpu.weight", "cgroup.procs", "cgroup.subtree_control"])
    try makeCgroup(folder + "/vcpus", files: ["cgroup.type", "cgroup.threads", "cpu.max"])
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: .v2(root: root))
    // Weight 0: no share of the unclaimed capacity, the entitlement alone.
    try pool.add(guest: "g", pid: getpid(), entitledCPUs: 1, uncappedWeight: 0)
    try pool.attach(guest: "g", threads: [VCPUThread(index: 1, tid: 77)], entitledVCPUs: 1)
    try pool.configure(.init(model: .dispatch))
    #expect(try read(folder + "/cpu.weight") == "100")
    #expect(try read(folder + "/cgroup.subtree_control") == "+cpu")
    #expect(try read(folder + "/vcpus/cgroup.type") == "threaded")
    #expect(try read(folder + "/vcpus/cpu.max") == "10000 10000")
    #expect(try read(folder + "/vcpus/cgroup.threads") == "77")
  }

  /// Real v1 cgroups around a `sleep` child standing in for a vCPU thread: `dispatch`, a
  /// window change, another model and back, then `close()` leaves nothing behind.
  @Test(.enabled(if: getuid() == 0 && CgroupCPUController.detect().map(\.isV1) == true))
  func dispatchReconfiguresAndClosesRealCgroups() throws {
    let child = try SleepingChild()
    defer { child.stop() }
    let pid = child.pid
    let controller = try #require(CgroupCPUController.detect())
    let pool = HostPool(cpus: HostPool.onlineCPUs(), controller: controller)
    try pool.add(guest: "d1", pid: pid, entitledCPUs: 0.5, uncappedWeight: 0)
    try pool.attach(guest: "d1", threads: [VCPUThread(index: 0, tid: pid)], entitledVCPUs: 1)
    let folder = controller.root + "/pvbench-\(getpid())-d1"
    func cgroup() throws -> String {
      try read("/proc/\(pid)/cgroup").split(separator: "\n")
        .first { $0.contains(":cpu:") || $0.contains(":cpu,") }.map(String.init) ?? ""
    }
    try pool.configure(.init(model: .dispatch, windowMicroseconds: 10_000))
    #expect(try cgroup().hasSuffix("/pvbench-\(getpid())-d1/vcpus"))
    #expect(try read(folder + "/vcpus/cpu.cfs_period_us") == "10000\n")
    #expect(try read(folder + "/vcpus/cpu.cfs_quota_us") == "5000\n")
    try pool.configure(.init(model: .dispatch, windowMicroseconds: 5000))
    #expect(try read(folder + "/vcpus/cpu.cfs_period_us") == "5000\n")
    #expect(try read(folder + "/vcpus/cpu.cfs_quota_us") == "2500\n")
    try pool.configure(.init(model: .fair))
    #expect(try cgroup().hasSuffix("/pvbench-\(getpid())-d1"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/vcpus"))
    try pool.configure(.init(model: .dispatch))
    #expect(FileManager.default.fileExists(atPath: folder + "/vcpus"))
    pool.close()
    #expect(!FileManager.default.fileExists(atPath: folder))
    #expect(!(try cgroup().contains("pvbench-")))
  }
}
