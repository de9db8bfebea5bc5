import Foundation

// Requests that carry a whole options value (`workload.start`, `stress.start`) send it
// as the JSON its `Codable` conformance writes; both sides convert here.
extension JSON {
  /// The JSON form of `value`, or null when it does not encode.
  package static func encode<T: Encodable>(_ value: T) -> JSON {
    guard let data = try? JSONEncoder().encode(value),
      let json = try? JSON.parse(String(decoding: data, as: UTF8.self))
    else { return .null }
    return json
  }

  /// Decodes the request member `key` as `T`.
  ///
  /// - Throws: `AgentError` (`bad-params`) when the member is missing or does not decode.
  package static func decode<T: Decodable>(_ json: JSON?, as key: String) throws(AgentError) -> T {
    guard let json else {
      throw AgentError(code: .badParams, message: "The request needs \"\(key)\".")
    }
    do {
      return try JSONDecoder().decode(T.self, from: Data(json.serialized.utf8))
    } catch {
      throw AgentError(code: .badParams, message: "\"\(key)\" is not valid: \(error).")
    }
  }
}
