/// Constants of the agent protocol (docs/agent-protocol.md).
package enum AgentProtocol {
  /// The protocol's major version: a controller with another major is refused.
  package static let major = 1
  /// The protocol's minor version: additions only. 1.1 names what was added since 1.0
  /// (the hello event's `recovered`, the samples event's `total`, `mode.apply`'s
  /// `incremental`, …); 1.2 the `preferred` event and `workload-done`'s `sched`
  /// (docs/agent-protocol.md, "Versions").
  package static let minor = 2
  /// `major.minor` as sent in the hello event and the hello request.
  package static var version: String { "\(major).\(minor)" }

  /// The major number of a `major.minor` version text, or nil when it is not one.
  package static func majorOf(_ version: String) -> Int? {
    guard let first = version.split(separator: ".").first else { return nil }
    return Int(first)
  }

  /// A reply line for a successful request.
  package static func reply(id: JSON, result: JSON) -> String {
    JSON.object(["id": id, "ok": true, "result": result]).serialized
  }

  /// A reply line for a failed request.
  package static func reply(id: JSON, error: AgentError) -> String {
    JSON.object(["id": id, "ok": false, "error": error.json]).serialized
  }

  /// An event line: `fields` plus `"event": name`.
  package static func event(_ name: AgentEventName, _ fields: [String: JSON] = [:]) -> String {
    var members = fields
    members["event"] = .string(name.rawValue)
    return JSON.object(members).serialized
  }
}
