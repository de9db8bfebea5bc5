import AgentProtocol
import Foundation
import LinuxHost

/// Checks whether one host can run the modes an experiment asks for, through its agent.
package struct HostDoctor: Sendable {
  package init() {}

  /// What the doctor found on one host: reachable or why not, its facts and each mode's
  /// support; `description` is the block `pvbench doctor` prints.
  package struct Findings: Sendable, CustomStringConvertible {
    package var host: String
    package var transport: String
    /// nil when reachable; otherwise why not.
    package var unreachable: String?
    package var agentVersion = ""
    /// Which agent served the host and where it runs (`portable (C) ppc64le, copied to
    /// .cache/pvbench/…`); nil when not known.
    package var agent: String?
    package var facts: HostFacts?
    package var modes: [ModeSupport.Check] = []

    package init(host: String, transport: String, unreachable: String? = nil) {
      self.host = host
      self.transport = transport
      self.unreachable = unreachable
    }

    /// True when the host is reachable and supports every mode asked for.
    package var fit: Bool { unreachable == nil && modes.allSatisfy { $0.problem == nil } }

    package var description: String {
      var lines = ["\(host) (\(transport))"]
      func row(_ label: String, _ value: String) {
        lines.append("  " + label.padding(toLength: 18, withPad: " ", startingAt: 0) + value)
      }
      if let unreachable {
        row("reachable", "no: \(unreachable)")
        return lines.joined(separator: "\n")
      }
      row("reachable", "yes, pvbench \(agentVersion)")
      if let agent { row("agent", agent) }
      if let facts {
        row("kernel", facts.kernelRelease)
        row(
          "CPUs",
          "\(CPUSet.format(facts.online)) online of \(CPUSet.format(facts.present)) present")
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
          "paravirt file",
          !facts.interfaces.contains("paravirt-sysfs")
            ? "absent"
            : facts.interfaces.contains("paravirt-sysfs-writable")
              ? "writable (the series' write method is applied)"
              : "read-only (the series without its write method, patch 16/17)")
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
          row(label, "supported (avoids \(CPUSet.format(avoided)))")
        } else {
          row(label, "supported")
        }
      }
      return lines.joined(separator: "\n")
    }
  }

  /// Examines the host behind `client` for `modes`.
  package func examine(
    client: AgentClient, host: String, transport: String, modes: [ModeRequest]
  ) async -> Findings {
    var report = Findings(host: host, transport: transport)
    report.agentVersion = client.helloEvent["version"]?.stringValue ?? "?"
    do {
      guard let facts = HostFacts(json: try await client.request("facts", timeout: .seconds(60)))
      else {
        report.unreachable = "the agent's facts reply could not be read."
        return report
      }
      report.facts = facts
      report.modes = modes.map { ModeSupport.check($0, host: host, facts: facts) }
    } catch {
      report.unreachable = "\(error)"
    }
    return report
  }
}
