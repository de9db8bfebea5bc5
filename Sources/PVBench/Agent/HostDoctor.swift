import Foundation

/// Checks whether one host can run the modes an experiment asks for, through its agent.
struct HostDoctor: Sendable {
  /// One mode's verdict.
  struct ModeCheck: Sendable, Hashable {
    var request: ModeRequest
    /// nil when supported; otherwise the full sentence saying why not.
    var problem: String?
    /// The CPUs the mode would avoid, when they resolve.
    var avoided: [Int]?
    /// `unsupported` when the host lacks an interface, `bad-params` when the request
    /// cannot work anywhere this host is shaped like.
    var code: AgentError.Code = .unsupported
  }

  /// The per-host report `pvbench doctor` prints.
  struct Report: Sendable, CustomStringConvertible {
    var host: String
    var transport: String
    /// nil when reachable; otherwise why not.
    var unreachable: String?
    var agentVersion = ""
    var facts: HostFacts?
    var modes: [ModeCheck] = []

    /// True when the host is reachable and supports every mode asked for.
    var fit: Bool { unreachable == nil && modes.allSatisfy { $0.problem == nil } }

    var description: String {
      var lines = ["\(host) (\(transport))"]
      func row(_ label: String, _ value: String) {
        lines.append("  " + label.padding(toLength: 18, withPad: " ", startingAt: 0) + value)
      }
      if let unreachable {
        row("reachable", "no: \(unreachable)")
        return lines.joined(separator: "\n")
      }
      row("reachable", "yes, pvbench \(agentVersion)")
      if let facts {
        row("kernel", facts.kernelRelease)
        row(
          "CPUs",
          "\(Cpulist.format(facts.online)) online of \(Cpulist.format(facts.present)) present")
        row("cores x threads", "\(facts.cores.count) x \(facts.threadsPerCore)")
        row(
          "entitlement",
          facts.entitledCapacity.map { String(format: "%.2f processors (lparcfg)", $0) }
            ?? "not reported by the platform; taken from the experiment file")
        row(
          "steal",
          facts.stealColumn
            ? "accounted (\(facts.stealTicks) ticks since boot)" : "no steal column in /proc/stat")
        row(
          "cgroup",
          facts.cgroupVersion == .none
            ? "none mounted"
            : "\(facts.cgroupVersion.rawValue), cpuset \(facts.cpusetUsable ? "usable" : "not usable")"
        )
      }
      for check in modes {
        let label = "mode \(check.request.kind.rawValue)"
        if let problem = check.problem {
          row(label, "no: \(problem)")
        } else if let avoided = check.avoided, !avoided.isEmpty {
          row(label, "supported (avoids \(Cpulist.format(avoided)))")
        } else {
          row(label, "supported")
        }
      }
      return lines.joined(separator: "\n")
    }
  }

  /// Examines the host behind `client` for `modes`.
  func examine(
    client: AgentClient, host: String, transport: String, modes: [ModeRequest]
  ) async -> Report {
    var report = Report(host: host, transport: transport)
    report.agentVersion = client.helloEvent["version"]?.stringValue ?? "?"
    do {
      guard let facts = HostFacts(json: try await client.request("facts", timeout: .seconds(60)))
      else {
        report.unreachable = "the agent's facts reply could not be read."
        return report
      }
      report.facts = facts
      report.modes = modes.map { HostDoctor.check($0, host: host, facts: facts) }
    } catch {
      report.unreachable = "\(error)"
    }
    return report
  }

  /// Whether `request` can run on a host with `facts`; the sentences match the agent's.
  static func check(_ request: ModeRequest, host: String, facts: HostFacts) -> ModeCheck {
    var check = ModeCheck(request: request)
    func needs(_ file: String, _ alternatives: String) -> String {
      "\(host): mode \(request.kind.rawValue) needs \(file); this kernel has none — \(alternatives)."
    }
    var entitled = request.entitledCores
    if entitled == nil, let capacity = facts.entitledCapacity {
      entitled = Int(capacity.rounded(.up))
    }
    if request.kind != .outOfBox && request.kind != .preferred {
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
    case .outOfBox:
      break
    case .hotplug:
      let stuck = avoided.filter { facts.online.contains($0) && !facts.hotpluggable.contains($0) }
      if !facts.interfaces.contains("hotplug") {
        check.problem = needs(
          "\(HostPaths.cpuDirectory)/cpuN/online", "use cpuset, or enable CONFIG_HOTPLUG_CPU")
      } else if facts.online.allSatisfy(avoided.contains) {
        check.code = .badParams
        check.problem =
          "\(host): hotplug of \(Cpulist.format(avoided)) would leave no CPU online; keep at least one."
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
          "\(host): a cpuset without \(Cpulist.format(avoided)) would hold no CPU."
      }
    }
    return check
  }
}
