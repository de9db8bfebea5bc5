/// The kind of a mode, as experiment files and the results store write it.
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
}

package enum ParavirtInterface: String, Sendable, Codable, CaseIterable {
  case auto, sysfs
  case powerpcDebugfs = "powerpc-debugfs"
}

/// How the governor acts when it decides to fold or unfold a core.
package enum GovernorAction: String, Sendable, Codable, CaseIterable {
  case hotplug, paravirt, cpuset
}
