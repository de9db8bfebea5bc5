import AgentProtocol

/// Checks a JSON value against the subset of JSON Schema that docs/agent-protocol.schema.json
/// uses: `type` (one name or a list; `integer` is a number without a fraction), `enum`,
/// `required`, `properties`, `additionalProperties` (false or a schema), `items`, `oneOf`
/// and `$ref` to `#/$defs/NAME`. Any other keyword is an error in the schema, so the
/// schema cannot say more than this checks.
struct JSONSchemaValidator {
  /// The whole schema document (for `$ref`).
  let document: JSON

  static let keywords: Set<String> = [
    "$schema", "$id", "$defs", "$ref", "title", "description", "type", "enum", "required",
    "properties", "additionalProperties", "items", "oneOf",
  ]

  /// The schema named `#/$defs/name`.
  func definition(_ name: String) -> JSON? { document["$defs"]?[name] }

  /// Every way `value` breaks `schema`, as `path: reason`; empty when it validates.
  func errors(_ value: JSON, against schema: JSON, at path: String = "$") -> [String] {
    guard let members = schema.objectValue else { return ["\(path): the schema is not an object"] }
    var found: [String] = []
    for key in members.keys where !Self.keywords.contains(key) {
      found.append("\(path): the schema uses '\(key)', which the validator does not know")
    }
    if let reference = schema["$ref"]?.stringValue {
      let prefix = "#/$defs/"
      guard reference.hasPrefix(prefix),
        let target = definition(String(reference.dropFirst(prefix.count)))
      else { return found + ["\(path): unresolved $ref '\(reference)'"] }
      found += errors(value, against: target, at: path)
    }
    if let types = schema["type"] {
      let names = types.arrayValue?.compactMap(\.stringValue) ?? [types.stringValue ?? "?"]
      if !names.contains(where: { Self.matches(value, type: $0) }) {
        return found + [
          "\(path): expected \(names.joined(separator: " or ")), got \(value.serialized)"
        ]
      }
    }
    if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
      found.append("\(path): \(value.serialized) is not one of \(JSON.array(allowed).serialized)")
    }
    if let object = value.objectValue {
      for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
      where object[key] == nil {
        found.append("\(path): missing '\(key)'")
      }
      let properties = schema["properties"]?.objectValue ?? [:]
      for (key, member) in object.sorted(by: { $0.key < $1.key }) {
        if let property = properties[key] {
          found += errors(member, against: property, at: "\(path).\(key)")
        } else if let extra = schema["additionalProperties"] {
          if extra == false {
            found.append("\(path): unexpected key '\(key)'")
          } else if extra.objectValue != nil {
            found += errors(member, against: extra, at: "\(path).\(key)")
          }
        }
      }
    }
    if let array = value.arrayValue, let items = schema["items"] {
      for (index, element) in array.enumerated() {
        found += errors(element, against: items, at: "\(path)[\(index)]")
      }
    }
    if let choices = schema["oneOf"]?.arrayValue {
      let passing = choices.filter { errors(value, against: $0, at: path).isEmpty }.count
      if passing != 1 {
        found.append("\(path): matches \(passing) of the \(choices.count) choices of oneOf, not 1")
      }
    }
    return found
  }

  private static func matches(_ value: JSON, type: String) -> Bool {
    switch (type, value) {
    case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array),
      ("object", .object), ("integer", .int), ("number", .int), ("number", .double):
      return true
    case ("integer", .double(let number)):
      return number.rounded() == number
    default:
      return false
    }
  }
}
