/// A CPU mode an experiment compares (DESIGN §6), as experiment files, the agent
/// protocol and the results store all name it.
public enum ModeKind: String, Sendable, Codable, CaseIterable {
  case outOfBox = "out-of-box"
  case hotplug, paravirt, preferred, cpuset, governor

  /// The column title reviewers know from the cover letter.
  package var defaultLabel: String {
    switch self {
    case .outOfBox: "Out of Box"
    case .hotplug: "cpu_hotplug"
    case .paravirt: "cpu_paravirt"
    case .preferred: "cpu_preferred"
    case .cpuset: "cpuset"
    case .governor: "governor"
    }
  }

  /// The modes an agent applies itself; the governor is the controller's loop, which
  /// acts through one of them.
  package static let hostModes: [ModeKind] = allCases.filter { $0 != .governor }

  /// Whether the mode avoids a set of CPUs (and so needs `cpus`).
  package var avoidsCPUs: Bool {
    switch self {
    case .hotplug, .paravirt, .cpuset, .governor: true
    case .outOfBox, .preferred: false
    }
  }
}

/// Which file the paravirt mode writes: the v3 sysfs cpulist, the powerpc debugfs hint,
/// or whichever the host has.
package enum ParavirtInterface: String, Sendable, Codable, CaseIterable {
  case auto, sysfs
  case powerpcDebugfs = "powerpc-debugfs"
}

/// How the governor acts when it decides to fold or unfold a core.
package enum GovernorAction: String, Sendable, Codable, CaseIterable {
  case hotplug, paravirt, cpuset

  /// The mode the governor applies to fold cores.
  package var modeKind: ModeKind {
    switch self {
    case .hotplug: .hotplug
    case .paravirt: .paravirt
    case .cpuset: .cpuset
    }
  }
}
