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

/// Which rules pvbench's governor decides by.
package enum GovernorPolicyKind: String, Sendable, Codable, CaseIterable {
  /// The merged `steal_governor` driver's rules, step for step
  /// (`drivers/virt/steal_governor.c`, `steal_governor_loop`).
  case stealGovernor = "steal-governor"
}

/// The `steal_governor` driver's module parameters, in its own units, with its refusals.
///
/// As published in tip (`drivers/virt/steal_governor.c`): `interval_ms` (default 1000) is
/// refused outside 100–100000 by `param_set_interval_ms`; `high_threshold` (default 500,
/// hundredths of a percent) is refused at 10000 or more by `param_set_high_threshold`;
/// `low_threshold` (default 200) has no range of its own, but `steal_governor_init` fails
/// the load when it is not below `high_threshold`. All three are read-only after load.
package struct StealGovernorParameters: Sendable, Hashable, Codable {
  /// `interval_ms`: how often the loop runs.
  package var intervalMilliseconds: Int
  /// `high_threshold`: a steal ratio above it (hundredths of a percent) folds a core.
  package var highThreshold: Int
  /// `low_threshold`: a steal ratio at or below it unfolds a core.
  package var lowThreshold: Int

  /// The driver's defaults: 1000 ms, 5 %, 2 %.
  package static let driverDefaults = StealGovernorParameters(
    unchecked: 1000, highThreshold: 500, lowThreshold: 200)
  /// The intervals `param_set_interval_ms` accepts, in milliseconds.
  package static let intervalRange = 100...100_000
  /// `param_set_high_threshold` refuses this and above (100 % in hundredths).
  package static let thresholdLimit = 10_000

  /// Checks the values as the driver does, in the order it does (each parameter's setter,
  /// then the load's comparison).
  /// - Throws: `StealGovernorParameterError`, the refusal that fails the module's load.
  package init(intervalMilliseconds: Int, highThreshold: Int, lowThreshold: Int)
    throws(StealGovernorParameterError)
  {
    // kstrtouint refuses a sign; nothing below 0 reaches the setters.
    if intervalMilliseconds < 0 { throw .notUnsigned("interval_ms") }
    if highThreshold < 0 { throw .notUnsigned("high_threshold") }
    if lowThreshold < 0 { throw .notUnsigned("low_threshold") }
    guard Self.intervalRange.contains(intervalMilliseconds) else {
      throw .interval(intervalMilliseconds)
    }
    guard highThreshold < Self.thresholdLimit else { throw .high(highThreshold) }
    guard lowThreshold < highThreshold else {
      throw .lowNotBelowHigh(low: lowThreshold, high: highThreshold)
    }
    self.init(
      unchecked: intervalMilliseconds, highThreshold: highThreshold, lowThreshold: lowThreshold)
  }

  private init(unchecked interval: Int, highThreshold: Int, lowThreshold: Int) {
    self.intervalMilliseconds = interval
    self.highThreshold = highThreshold
    self.lowThreshold = lowThreshold
  }

  /// The parameters as `modprobe` takes them.
  package var moduleArguments: String {
    "interval_ms=\(intervalMilliseconds) high_threshold=\(highThreshold) "
      + "low_threshold=\(lowThreshold)"
  }
}

/// Why the `steal_governor` driver would refuse its parameters (its load fails with EINVAL).
package enum StealGovernorParameterError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `interval_ms` outside 100–100000.
  case interval(Int)
  /// `high_threshold` at or above 10000.
  case high(Int)
  /// `low_threshold` not below `high_threshold`.
  case lowNotBelowHigh(low: Int, high: Int)
  /// A negative value, which `kstrtouint` does not parse.
  case notUnsigned(String)

  package var description: String {
    switch self {
    case .interval(let value):
      "interval_ms \(value) is outside the driver's range 100–100000"
    case .high(let value):
      "high_threshold \(value) is not below 10000 (100%)"
    case .lowNotBelowHigh(let low, let high):
      "low_threshold \(low) is not below high_threshold \(high)"
    case .notUnsigned(let name):
      "\(name) is not an unsigned integer"
    }
  }
}
