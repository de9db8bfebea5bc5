import Vocabulary

/// A CPU mode to apply, as the `mode.apply` request carries it (DESIGN §6).
///
/// The one place the request's params are encoded (`params`) and decoded
/// (`init(params:)`); docs/agent-protocol.md lists them.
package struct ModeRequest: Sendable, Hashable {
  /// Never `.governor`: the governor is the controller's loop and sends the mode it acts through.
  package var kind: ModeKind
  /// The CPUs to avoid: a cpulist, `non-entitled` or `all`.
  package var cpus: CPUSelection = .list([])
  /// Cores this host is entitled to (from the experiment file); lparcfg is used when nil.
  package var entitledCores: Int?
  package var interface: ParavirtInterface = .auto
  /// steal_governor parameters (percent×100 for the thresholds).
  package var intervalMilliseconds = 1000
  package var highThreshold = 500
  package var lowThreshold = 200
  /// The host's name for messages (the experiment's host key).
  package var hostName: String = ""
  /// Measure evacuation: how long until every avoided CPU falls under 5 % busy.
  package var measureEvacuation = false
  /// Give up measuring evacuation after this long.
  package var evacuationTimeoutMilliseconds = 30_000
  /// The /proc/stat window evacuation is judged over.
  package var evacuationWindowMilliseconds = 200
  /// Move the active mode of the same kind to the new CPU set by changing only the CPUs
  /// that differ (the governor's one-core steps), instead of restoring it first.
  package var incremental = false

  /// Decodes `mode.apply` params.
  ///
  /// - Throws: `AgentError` (`bad-params`) naming the key and the value.
  package init(params: JSON) throws(AgentError) {
    guard let name = params["mode"]?.stringValue, let kind = ModeKind(rawValue: name),
      ModeKind.hostModes.contains(kind)
    else {
      let known = ModeKind.hostModes.map(\.rawValue).joined(separator: ", ")
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
    } else if kind.avoidsCPUs {
      throw AgentError(code: .badParams, message: "Mode \(name) needs \"cpus\".")
    }
    entitledCores = params["entitled"]?.intValue.map(Int.init)
    if let text = params["interface"]?.stringValue {
      guard let value = ParavirtInterface(rawValue: text) else {
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
    measureEvacuation = params["evacuation"]?.boolValue ?? false
    evacuationTimeoutMilliseconds = Int(params["evacuation_timeout_ms"]?.intValue ?? 30_000)
    evacuationWindowMilliseconds = Int(params["evacuation_window_ms"]?.intValue ?? 200)
    incremental = params["incremental"]?.boolValue ?? false
  }

  /// A request built in code.
  package init(kind: ModeKind, cpus: CPUSelection = .list([]), entitledCores: Int? = nil) {
    self.kind = kind
    self.cpus = cpus
    self.entitledCores = entitledCores
  }

  /// The `mode.apply` params.
  package var params: JSON {
    var members: [String: JSON] = [
      "mode": .string(kind.rawValue), "cpus": .string(cpus.description),
      "interface": .string(interface.rawValue), "interval_ms": .int(Int64(intervalMilliseconds)),
      "high_threshold": .int(Int64(highThreshold)), "low_threshold": .int(Int64(lowThreshold)),
    ]
    if let entitledCores { members["entitled"] = .int(Int64(entitledCores)) }
    if !hostName.isEmpty { members["host"] = .string(hostName) }
    if incremental { members["incremental"] = true }
    if measureEvacuation {
      members["evacuation"] = true
      members["evacuation_timeout_ms"] = .int(Int64(evacuationTimeoutMilliseconds))
      members["evacuation_window_ms"] = .int(Int64(evacuationWindowMilliseconds))
    }
    return .object(members)
  }
}
