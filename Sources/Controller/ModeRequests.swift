import AgentProtocol
import Experiments
import Vocabulary

extension ModeRequest {
  /// The agent requests an experiment's modes need (the governor acts through one of them).
  package static func requests(for modes: [ModeSpec], entitled: Int?) -> [ModeRequest] {
    modes.compactMap { mode in
      let kind: ModeRequest.Kind?
      switch mode.kind {
      case .governor: kind = ModeRequest.Kind(rawValue: (mode.governorAction ?? .cpuset).rawValue)
      default: kind = ModeRequest.Kind(rawValue: mode.kind.rawValue)
      }
      guard let kind else { return nil }
      var request = ModeRequest(
        kind: kind, cpus: mode.cpus ?? .nonEntitled, entitledCores: entitled)
      if let interface = mode.paravirtInterface {
        request.interface = ModeRequest.Interface(rawValue: interface.rawValue) ?? .auto
      }
      return request
    }
  }
}
