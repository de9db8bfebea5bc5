/// A CPU mode to apply, as the `mode.apply` request carries it (DESIGN §6).
struct ModeRequest: Sendable, Hashable {
  /// The mode kinds an agent applies itself (the governor loop lives in the controller).
  enum Kind: String, Sendable, CaseIterable {
    case outOfBox = "out-of-box"
    case hotplug
    case paravirt
    case preferred
    case cpuset
  }

  /// Which paravirt file to use.
  enum Interface: String, Sendable, CaseIterable {
    case auto
    case sysfs
    case powerpcDebugfs = "powerpc-debugfs"
  }

  var kind: Kind
  /// The CPUs to avoid: a cpulist, `non-entitled` or `all`.
  var cpus: CPUSelection = .list([])
  /// Cores this host is entitled to (from the experiment file); lparcfg is used when nil.
  var entitledCores: Int?
  var interface: Interface = .auto
  /// steal_governor parameters (percent×100 for the thresholds).
  var intervalMilliseconds = 1000
  var highThreshold = 500
  var lowThreshold = 200
  /// The host's name for messages (the experiment's host key).
  var hostName: String = ""

  /// Decodes `mode.apply` params.
  ///
  /// - Throws: `AgentError` (`bad-params`) naming the key and the value.
  init(params: JSON) throws(AgentError) {
    guard let name = params["mode"]?.stringValue, let kind = Kind(rawValue: name) else {
      let known = Kind.allCases.map(\.rawValue).joined(separator: ", ")
      throw AgentError(
        code: .badParams,
        message:
          "'mode.apply' needs \"mode\": one of \(known); got \(params["mode"]?.serialized ?? "nothing")."
      )
    }
    self.kind = kind
    if let text = params["cpus"]?.stringValue {
      guard let selection = CPUSelection(text) else {
        throw AgentError(
          code: .badParams,
          message:
            "\"cpus\" must be a cpulist like '0-3,8', 'non-entitled' or 'all'; got '\(text)'.")
      }
      cpus = selection
    } else if kind != .outOfBox && kind != .preferred {
      throw AgentError(code: .badParams, message: "Mode \(name) needs \"cpus\".")
    }
    entitledCores = params["entitled"]?.intValue.map(Int.init)
    if let text = params["interface"]?.stringValue {
      guard let value = Interface(rawValue: text) else {
        throw AgentError(
          code: .badParams,
          message: "\"interface\" must be auto, sysfs or powerpc-debugfs; got '\(text)'.")
      }
      interface = value
    }
    intervalMilliseconds = Int(params["interval_ms"]?.intValue ?? 1000)
    highThreshold = Int(params["high_threshold"]?.intValue ?? 500)
    lowThreshold = Int(params["low_threshold"]?.intValue ?? 200)
    hostName = params["host"]?.stringValue ?? ""
  }

  /// A request built in code.
  init(kind: Kind, cpus: CPUSelection = .list([]), entitledCores: Int? = nil) {
    self.kind = kind
    self.cpus = cpus
    self.entitledCores = entitledCores
  }

  /// The `mode.apply` params.
  var params: JSON {
    var members: [String: JSON] = [
      "mode": .string(kind.rawValue), "cpus": .string(cpus.description),
      "interface": .string(interface.rawValue), "interval_ms": .int(Int64(intervalMilliseconds)),
      "high_threshold": .int(Int64(highThreshold)), "low_threshold": .int(Int64(lowThreshold)),
    ]
    if let entitledCores { members["entitled"] = .int(Int64(entitledCores)) }
    if !hostName.isEmpty { members["host"] = .string(hostName) }
    return .object(members)
  }
}

/// A set of CPUs as experiment files write it.
enum CPUSelection: Sendable, Hashable, CustomStringConvertible {
  case list([Int])
  /// Whole cores beyond the entitled ones, highest-numbered first.
  case nonEntitled
  case all

  /// Parses `0-3,8`, `non-entitled` or `all`; nil otherwise.
  init?(_ text: String) {
    switch text {
    case "non-entitled": self = .nonEntitled
    case "all": self = .all
    default:
      guard let cpus = Cpulist.parse(text) else { return nil }
      self = .list(cpus)
    }
  }

  var description: String {
    switch self {
    case .list(let cpus): Cpulist.format(cpus)
    case .nonEntitled: "non-entitled"
    case .all: "all"
    }
  }

  /// The CPUs, in the order they are given up (highest-numbered core first, all its siblings).
  ///
  /// - Parameters:
  ///   - cores: SMT sibling groups of the host.
  ///   - entitledCores: cores kept for `non-entitled`.
  /// - Returns: nil when `non-entitled` has no entitlement to work from.
  func resolve(cores: [[Int]], entitledCores: Int?) -> [Int]? {
    let ordered = cores.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    switch self {
    case .list(let cpus): return cpus.sorted(by: >)
    case .all: return ordered.flatMap { $0 }.sorted(by: >)
    case .nonEntitled:
      guard let entitledCores else { return nil }
      return ordered.dropFirst(max(0, entitledCores)).reversed().flatMap { $0.sorted(by: >) }
    }
  }
}
