import AgentProtocol
import Experiments
import Vocabulary

extension ModeRequest {
  /// The agent request that applies `mode` on `host` (the governor's is the mode it acts
  /// through, over the CPUs `mode` names).
  ///
  /// The one conversion of an experiment's mode into the agent's request: thresholds
  /// become the steal governor module's percent×100, rounded; intervals milliseconds.
  package init(_ mode: ModeSpec, host: String, entitledCores: Int?) {
    let kind = mode.kind == .governor ? (mode.governorAction ?? .cpuset).modeKind : mode.kind
    self.init(kind: kind, cpus: mode.cpus ?? .nonEntitled, entitledCores: entitledCores)
    hostName = host
    interface = mode.paravirtInterface ?? .auto
    if let interval = mode.interval {
      intervalMilliseconds = Int(interval.nanoseconds / 1_000_000)
    }
    if let high = mode.high { highThreshold = Int((high.percent * 100).rounded()) }
    if let low = mode.low { lowThreshold = Int((low.percent * 100).rounded()) }
  }

  /// The agent requests an experiment's modes need, as `doctor` and a run's preflight
  /// check them.
  package static func requests(for modes: [ModeSpec], host: String, entitled: Int?)
    -> [ModeRequest]
  {
    modes.map { ModeRequest($0, host: host, entitledCores: entitled) }
  }
}
