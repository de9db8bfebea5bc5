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
  /// - Parameter choices: the words each closed-choice member (an enum) accepts, by member
  ///   name, for the sentence that lists them.
  /// - Throws: `AgentError` (`bad-params`) when the member is missing or does not decode,
  ///   with one plain sentence on the first member that is wrong (``decodingProblem``),
  ///   word for word the portable agent's (agent/monitors.c).
  package static func decode<T: Decodable>(
    _ json: JSON?, as key: String, choices: [String: [String]] = [:]
  ) throws(AgentError) -> T {
    guard let json else {
      throw AgentError(code: .badParams, message: "The request needs \"\(key)\".")
    }
    let attempt = { (value: JSON) -> Result<T, any Error> in
      Result { try JSONDecoder().decode(T.self, from: Data(value.serialized.utf8)) }
    }
    switch attempt(json) {
    case .success(let value): return value
    case .failure(let error as DecodingError):
      let problem = json.decodingProblem(
        error, choices: choices,
        probe: { if case .failure(let error as DecodingError) = attempt($0) { error } else { nil } }
      )
      throw AgentError(code: .badParams, message: "\"\(key)\" is not valid: \(problem)")
    case .failure(let error):
      throw AgentError(code: .badParams, message: "\"\(key)\" is not valid: \(error).")
    }
  }

  /// The member of this object that JSONDecoder failed on without naming it: a number a
  /// fixed-width integer cannot hold (a fraction, too large, or below zero for an unsigned
  /// one), which it reports as corrupt data with an empty coding path. `probe` decodes a
  /// variant of the object and returns its error. A member is at fault when the object
  /// still fails with every other number set to 0; of those, the first the decoder reads
  /// is the one that, made a string, fails as that member's type mismatch.
  private func undecodableNumber(probe: (JSON) -> DecodingError?) -> String? {
    guard case .object(let members) = self else { return nil }
    let numbers = members.keys.sorted().filter {
      switch members[$0] {
      case .int?, .double?: return true
      default: return false
      }
    }
    func isUnnamedCorruption(_ error: DecodingError?) -> Bool {
      if case .dataCorrupted(let context)? = error { return context.codingPath.isEmpty }
      return false
    }
    let atFault = numbers.filter { number in
      var variant = members
      for other in numbers where other != number { variant[other] = .int(0) }
      return isUnnamedCorruption(probe(.object(variant)))
    }
    return atFault.first { number in
      var variant = members
      variant[number] = .string("")
      if case .typeMismatch(_, let context)? = probe(.object(variant)) {
        return context.codingPath.first?.stringValue == number
      }
      return false
    } ?? atFault.first
  }

  /// What is wrong with this value (an options object) in `error`'s terms, as a sentence
  /// that names the member: `the key 'runtimeSeconds' is missing.`, `'locking' must be
  /// true or false.`, `'engine' must be auto, stress-ng or builtin.`. A null member counts
  /// as missing; a member inside an array is named by the array.
  /// - Parameter probe: decodes a variant of this value and returns its error, to find
  ///   the member when the decoder does not name it (``undecodableNumber(probe:)``).
  package func decodingProblem(
    _ error: DecodingError, choices: [String: [String]], probe: (JSON) -> DecodingError?
  ) -> String {
    var path: [any CodingKey]
    switch error {
    case .keyNotFound(let key, let context): path = context.codingPath + [key]
    case .valueNotFound(_, let context), .typeMismatch(_, let context),
      .dataCorrupted(let context):
      path = context.codingPath
    @unknown default: return "\(error)."
    }
    if case .dataCorrupted = error, path.isEmpty, let member = undecodableNumber(probe: probe) {
      path = [AnyKey(member)]
    }
    // The member the sentence names: the outermost key (options hold no nested objects).
    guard let member = path.first(where: { $0.intValue == nil })?.stringValue else {
      return "it must be an object."
    }
    let inArray =
      path.count > 1
      || {
        if case .typeMismatch(let type, _) = error { return type is [Any].Type }
        return false
      }()
    if case .keyNotFound = error { return "the key '\(member)' is missing." }
    if case .valueNotFound = error, !inArray { return "the key '\(member)' is missing." }
    if let words = choices[member] {
      let list = words.dropLast().joined(separator: ", ") + " or " + (words.last ?? "")
      return "'\(member)' must be \(list)."
    }
    if inArray { return "'\(member)' must be an array of integers." }
    if case .typeMismatch(let type, _) = error {
      if type == Bool.self { return "'\(member)' must be true or false." }
      if type == String.self { return "'\(member)' must be a string." }
    }
    // A number a fixed-width integer cannot hold: a fraction, too large, or below zero
    // for an unsigned one (JSONDecoder says "not representable").
    if case .int(let value)? = self[member], value < 0 {
      return "'\(member)' must not be negative."
    }
    return "'\(member)' must be an integer."
  }
}

/// A coding key by name, for a member the decoder did not name.
private struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ name: String) { stringValue = name }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
