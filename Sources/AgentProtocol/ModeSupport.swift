import Foundation
import LinuxHost

/// Which modes a host can run: the rules the agent applies before a change and the
/// controller's `doctor` prints, in one place so their sentences always match.
package enum ModeSupport {
  /// One mode's verdict.
  package struct Check: Sendable, Hashable {
    package var request: ModeRequest
    /// nil when supported; otherwise the full sentence saying why not.
    package var problem: String?
    /// The CPUs the mode would avoid, when they resolve.
    package var avoided: [Int]?
    /// `unsupported` when the host lacks an interface, `bad-params` when the request
    /// cannot work anywhere this host is shaped like.
    package var code: AgentError.Code = .unsupported
  }

  /// Whether `request` can run on a host with `facts`; the sentences match the agent's.
  package static func check(_ request: ModeRequest, host: String, facts: HostFacts) -> Check {
    var check = Check(request: request)
    func needs(_ file: String, _ alternatives: String) -> String {
      "\(host): mode \(request.kind.rawValue) needs \(file); this kernel has none — \(alternatives)."
    }
    if request.kind == .governor {
      check.code = .badParams
      check.problem =
        "\(host): the governor is pvbench's own loop in the controller; an agent applies the mode it acts through (hotplug, paravirt or cpuset)."
      return check
    }
    let entitled = request.entitledCores ?? facts.entitledCores
    if request.kind.avoidsCPUs {
      guard let cpus = request.cpus.resolve(cores: facts.cores, entitledCores: entitled) else {
        check.code = .badParams
        check.problem =
          "\(host): 'non-entitled' needs the host's entitled cores; give 'entitled:' in the experiment file (or --entitled) — this host has no /proc/powerpc/lparcfg."
        return check
      }
      check.avoided = cpus
    }
    let avoided = check.avoided ?? []
    switch request.kind {
    case .outOfBox, .governor:
      break
    case .hotplug:
      let stuck = avoided.filter { facts.online.contains($0) && !facts.hotpluggable.contains($0) }
      if !facts.interfaces.contains("hotplug") {
        check.problem = needs(
          "\(HostPaths.cpuDirectory)/cpuN/online", "use cpuset, or enable CONFIG_HOTPLUG_CPU")
      } else if facts.online.allSatisfy(avoided.contains) {
        check.code = .badParams
        check.problem =
          "\(host): hotplug of \(CPUSet.format(avoided)) would leave no CPU online; keep at least one."
      } else if let cpu = stuck.first {
        check.problem = needs(
          HostPaths.cpuOnline(cpu),
          "cpu\(cpu) cannot be taken offline here; leave it out of the set or use cpuset")
      }
    case .paravirt:
      let sysfs = facts.interfaces.contains("paravirt-sysfs")
      let powerpc = facts.interfaces.contains("paravirt-powerpc-debugfs")
      switch request.interface {
      case .auto where !sysfs && !powerpc, .sysfs where !sysfs:
        check.problem = needs(HostPaths.paravirt, "use cpuset, or boot a kernel with the series")
      case .auto where sysfs && !facts.interfaces.contains("paravirt-sysfs-writable"),
        .sysfs where !facts.interfaces.contains("paravirt-sysfs-writable"):
        check.problem =
          "\(host): mode paravirt needs a writable \(HostPaths.paravirt); this kernel's is read-only, as the series publishes it — apply its debug patch 'sysfs: Provide write method for paravirt' (16/17), or use cpuset."
      case .powerpcDebugfs where !powerpc:
        check.problem = needs(
          HostPaths.vpManualHint,
          "mount debugfs and boot a powerpc kernel with the series, or use cpuset")
      default:
        break
      }
    case .preferred:
      if !facts.interfaces.contains("steal-governor-module") {
        check.problem = needs(
          "the \(StealGovernor.moduleName) module (for \(HostPaths.preferred))",
          "use paravirt or cpuset, or build the module for \(facts.kernelRelease)")
      }
    case .cpuset:
      if !facts.cpusetUsable {
        check.problem = needs(
          "the cpuset controller in \(HostPaths.cgroupRoot)/cgroup.controllers (or a v1 cpuset mount)",
          "enable cpuset, or use hotplug")
      } else if facts.online.allSatisfy(avoided.contains) {
        check.code = .badParams
        check.problem =
          "\(host): a cpuset without \(CPUSet.format(avoided)) would hold no CPU."
      }
    }
    return check
  }
}
