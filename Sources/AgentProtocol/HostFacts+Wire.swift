import LinuxHost

// The `facts` reply carries a host's facts; both sides encode and decode it here.
extension HostFacts {
  /// The `facts` reply.
  package var json: JSON {
    [
      "kernel_release": .string(kernelRelease),
      "cmdline": .string(cmdline),
      "cpus_online": .string(CPUSet.format(online)),
      "cpus_present": .string(CPUSet.format(present)),
      "cpus_possible": .string(CPUSet.format(possible)),
      "cores": .array(cores.map { .string(CPUSet.format($0)) }),
      "threads_per_core": .int(Int64(threadsPerCore)),
      "entitled_capacity": entitledCapacity.map(JSON.double) ?? .null,
      "cgroup_version": .string(cgroupVersion.rawValue),
      "cpuset_usable": .bool(cpusetUsable),
      "steal_column": .bool(stealColumn),
      "steal_ticks": .int(stealTicks),
      "interfaces": .array(interfaces.map(JSON.string)),
      "cpus_hotpluggable": .string(CPUSet.format(hotpluggable)),
    ]
  }

  /// Decodes a `facts` reply (the controller side).
  package init?(json: JSON) {
    guard let release = json["kernel_release"]?.stringValue,
      let online = json["cpus_online"]?.stringValue.flatMap(CPUSet.cpus(parsing:)),
      let cores = json["cores"]?.arrayValue
    else { return nil }
    self.init(
      kernelRelease: release, cmdline: json["cmdline"]?.stringValue ?? "", online: online,
      present: json["cpus_present"]?.stringValue.flatMap(CPUSet.cpus(parsing:)) ?? online,
      possible: json["cpus_possible"]?.stringValue.flatMap(CPUSet.cpus(parsing:)) ?? online,
      cores: cores.compactMap { $0.stringValue.flatMap(CPUSet.cpus(parsing:)) },
      threadsPerCore: Int(json["threads_per_core"]?.intValue ?? 1),
      entitledCapacity: json["entitled_capacity"]?.doubleValue,
      cgroupVersion: CgroupVersion(rawValue: json["cgroup_version"]?.stringValue ?? "") ?? .none,
      cpusetUsable: json["cpuset_usable"]?.boolValue ?? false,
      stealColumn: json["steal_column"]?.boolValue ?? false,
      stealTicks: json["steal_ticks"]?.intValue ?? 0,
      interfaces: json["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    self.hotpluggable = json["cpus_hotpluggable"]?.stringValue.flatMap(CPUSet.cpus(parsing:)) ?? []
  }
}
