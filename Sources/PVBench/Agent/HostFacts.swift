import Foundation

/// What the agent knows about its host: kernel, CPUs, topology, entitlement, interfaces.
struct HostFacts: Sendable, Hashable {
  /// Cgroup hierarchy the host mounts at /sys/fs/cgroup.
  enum CgroupVersion: String, Sendable {
    case v1, v2, none
  }

  var kernelRelease: String
  var cmdline: String
  var online: [Int]
  var present: [Int]
  var possible: [Int]
  /// SMT sibling groups, one per core, sorted by first CPU.
  var cores: [[Int]]
  var threadsPerCore: Int
  /// Entitled capacity in processors from /proc/powerpc/lparcfg, nil when absent.
  var entitledCapacity: Double?
  var cgroupVersion: CgroupVersion
  var cpusetUsable: Bool
  /// True when /proc/stat's per-CPU lines carry the steal column.
  var stealColumn: Bool
  /// Total steal ticks across CPUs at the time of reading (0 when the hypervisor reports none).
  var stealTicks: Int64
  /// Mode interfaces found: `hotplug`, `paravirt-sysfs`, `paravirt-powerpc-debugfs`,
  /// `preferred`, `steal-governor-module`, `cpuset`.
  var interfaces: [String]
  /// Online CPUs that have a `cpuN/online` file (cpu0 often has none).
  var hotpluggable: [Int] = []

  /// Reads the facts under `paths` (kernel seam for module availability).
  static func read(paths: HostPaths, kernel: any SysfsWriter) -> HostFacts {
    let cpuDir = HostPaths.cpuDirectory
    let online = paths.readTrimmed("\(cpuDir)/online").flatMap(Cpulist.parse) ?? []
    let present = paths.readTrimmed("\(cpuDir)/present").flatMap(Cpulist.parse) ?? online
    let possible = paths.readTrimmed("\(cpuDir)/possible").flatMap(Cpulist.parse) ?? present
    var groups = Set<[Int]>()
    for cpu in present {
      let siblings = paths.readTrimmed("\(cpuDir)/cpu\(cpu)/topology/thread_siblings_list")
        .flatMap(Cpulist.parse)
      groups.insert(siblings?.isEmpty == false ? siblings! : [cpu])
    }
    let cores = groups.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    var entitled: Double?
    if let lparcfg = paths.read(HostPaths.lparcfg) {
      for line in lparcfg.split(separator: "\n")
      where line.hasPrefix("partition_entitled_capacity=") {
        entitled = Double(line.split(separator: "=").last ?? "").map { $0 / 100 }
      }
    }
    let cgroupRoot = HostPaths.cgroupRoot
    var version = CgroupVersion.none
    var cpuset = false
    if let controllers = paths.read("\(cgroupRoot)/cgroup.controllers") {
      version = .v2
      cpuset = controllers.split(whereSeparator: \.isWhitespace).contains("cpuset")
    } else if paths.exists("\(cgroupRoot)/cpuset/cpuset.cpus") {
      version = .v1
      cpuset = true
    }
    var stealColumn = false
    var stealTicks: Int64 = 0
    if let stat = paths.read("/proc/stat") {
      for row in ProcStat.parse(stat) {
        stealColumn = stealColumn || row.hasSteal
        stealTicks += row.steal
      }
    }
    var interfaces: [String] = []
    if online.contains(where: { paths.exists(HostPaths.cpuOnline($0)) }) {
      interfaces.append("hotplug")
    }
    if paths.exists(HostPaths.paravirt) { interfaces.append("paravirt-sysfs") }
    if paths.exists(HostPaths.vpManualHint) { interfaces.append("paravirt-powerpc-debugfs") }
    if paths.exists(HostPaths.preferred) { interfaces.append("preferred") }
    let release = paths.readTrimmed("/proc/sys/kernel/osrelease") ?? ""
    if kernel.moduleAvailable(StealGovernor.moduleName, kernelRelease: release) {
      interfaces.append("steal-governor-module")
    }
    if cpuset { interfaces.append("cpuset") }
    var facts = HostFacts(
      kernelRelease: release,
      cmdline: paths.readTrimmed("/proc/cmdline") ?? "",
      online: online, present: present, possible: possible, cores: cores,
      threadsPerCore: cores.map(\.count).max() ?? 1, entitledCapacity: entitled,
      cgroupVersion: version, cpusetUsable: cpuset, stealColumn: stealColumn,
      stealTicks: stealTicks, interfaces: interfaces)
    facts.hotpluggable = online.filter { paths.exists(HostPaths.cpuOnline($0)) }
    return facts
  }

  /// The `facts` reply.
  var json: JSON {
    [
      "kernel_release": .string(kernelRelease),
      "cmdline": .string(cmdline),
      "cpus_online": .string(Cpulist.format(online)),
      "cpus_present": .string(Cpulist.format(present)),
      "cpus_possible": .string(Cpulist.format(possible)),
      "cores": .array(cores.map { .string(Cpulist.format($0)) }),
      "threads_per_core": .int(Int64(threadsPerCore)),
      "entitled_capacity": entitledCapacity.map(JSON.double) ?? .null,
      "cgroup_version": .string(cgroupVersion.rawValue),
      "cpuset_usable": .bool(cpusetUsable),
      "steal_column": .bool(stealColumn),
      "steal_ticks": .int(stealTicks),
      "interfaces": .array(interfaces.map(JSON.string)),
      "cpus_hotpluggable": .string(Cpulist.format(hotpluggable)),
    ]
  }

  /// Decodes a `facts` reply (the controller side).
  init?(json: JSON) {
    guard let release = json["kernel_release"]?.stringValue,
      let online = json["cpus_online"]?.stringValue.flatMap(Cpulist.parse),
      let cores = json["cores"]?.arrayValue
    else { return nil }
    self.kernelRelease = release
    self.cmdline = json["cmdline"]?.stringValue ?? ""
    self.online = online
    self.present = json["cpus_present"]?.stringValue.flatMap(Cpulist.parse) ?? online
    self.possible = json["cpus_possible"]?.stringValue.flatMap(Cpulist.parse) ?? online
    self.cores = cores.compactMap { $0.stringValue.flatMap(Cpulist.parse) }
    self.threadsPerCore = Int(json["threads_per_core"]?.intValue ?? 1)
    self.entitledCapacity = json["entitled_capacity"]?.doubleValue
    self.cgroupVersion = CgroupVersion(rawValue: json["cgroup_version"]?.stringValue ?? "") ?? .none
    self.cpusetUsable = json["cpuset_usable"]?.boolValue ?? false
    self.stealColumn = json["steal_column"]?.boolValue ?? false
    self.stealTicks = json["steal_ticks"]?.intValue ?? 0
    self.interfaces = json["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? []
    self.hotpluggable = json["cpus_hotpluggable"]?.stringValue.flatMap(Cpulist.parse) ?? []
  }

  /// Memberwise.
  init(
    kernelRelease: String, cmdline: String, online: [Int], present: [Int], possible: [Int],
    cores: [[Int]], threadsPerCore: Int, entitledCapacity: Double?, cgroupVersion: CgroupVersion,
    cpusetUsable: Bool, stealColumn: Bool, stealTicks: Int64, interfaces: [String]
  ) {
    self.kernelRelease = kernelRelease
    self.cmdline = cmdline
    self.online = online
    self.present = present
    self.possible = possible
    self.cores = cores
    self.threadsPerCore = threadsPerCore
    self.entitledCapacity = entitledCapacity
    self.cgroupVersion = cgroupVersion
    self.cpusetUsable = cpusetUsable
    self.stealColumn = stealColumn
    self.stealTicks = stealTicks
    self.interfaces = interfaces
  }
}
