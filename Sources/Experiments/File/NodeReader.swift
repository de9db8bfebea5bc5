import LinuxHost
import Vocabulary
import Workloads
import Yams

/// Reads one YAML node at a key path, reporting problems to a sink instead of throwing,
/// so that one pass over a file finds every problem in it.
package struct NodeReader {
  package let node: Node
  /// Path components; list indices are `[N]` suffixes of the previous component.
  package let path: [String]
  package let sink: DiagnosticSink

  package var keyPath: String {
    path.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
  }

  package var mark: (line: Int, column: Int)? { node.mark.map { ($0.line, $0.column) } }

  package func error(_ message: String) { sink.error(message, at: mark, keyPath: keyPath) }

  package func warning(_ message: String) { sink.warning(message, at: mark, keyPath: keyPath) }

  package func child(_ key: String, _ node: Node) -> NodeReader {
    NodeReader(node: node, path: path + [key], sink: sink)
  }

  /// A short, quoted rendering of the node for messages.
  package var shown: String {
    switch node {
    case .scalar(let scalar): "'\(scalar.string)'"
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .alias: "an alias"
    }
  }

  package var isNull: Bool {
    if case .scalar(let scalar) = node {
      return scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"
    }
    return false
  }

  // MARK: Structure

  /// The node as a mapping whose keys must come from `allowed`; unknown keys are reported.
  package func mapping(allowed: [String]) -> MappingReader? {
    guard case .mapping(let mapping) = node else {
      error("expected a mapping, got \(shown)")
      return nil
    }
    var entries: [(key: String, keyNode: Node, value: Node)] = []
    for (keyNode, value) in mapping {
      guard case .scalar(let scalar) = keyNode else {
        child("?", keyNode).error("keys must be plain names")
        continue
      }
      let key = scalar.string
      if !allowed.contains(key) {
        let hint =
          Self.suggestion(for: key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
        sink.error(
          "unknown key '\(key)'\(hint)", at: keyNode.mark.map { ($0.line, $0.column) },
          keyPath: keyPath)
        continue
      }
      entries.append((key, keyNode, value))
    }
    return MappingReader(reader: self, entries: entries)
  }

  /// Any mapping, with its keys in file order (host names, sweep keys).
  package func anyMapping() -> [(
    key: String, keyMark: (line: Int, column: Int)?, value: NodeReader
  )]? {
    guard case .mapping(let mapping) = node else {
      error("expected a mapping, got \(shown)")
      return nil
    }
    return mapping.compactMap { keyNode, value in
      guard case .scalar(let scalar) = keyNode else {
        child("?", keyNode).error("keys must be plain names")
        return nil
      }
      return (scalar.string, keyNode.mark.map { ($0.line, $0.column) }, child(scalar.string, value))
    }
  }

  package func sequence() -> [NodeReader]? {
    guard case .sequence(let sequence) = node else {
      error("expected a list, got \(shown)")
      return nil
    }
    let last = path.last ?? ""
    return sequence.enumerated().map { index, node in
      NodeReader(node: node, path: Array(path.dropLast()) + ["\(last)[\(index)]"], sink: sink)
    }
  }

  // MARK: Scalars

  package func scalarText(_ what: String) -> String? {
    guard case .scalar(let scalar) = node else {
      error("expected \(what), got \(shown)")
      return nil
    }
    return scalar.string
  }

  package func string() -> String? {
    guard let text = scalarText("a string") else { return nil }
    if text.isEmpty { error("must not be empty") }
    return text.isEmpty ? nil : text
  }

  package func int(in range: ClosedRange<Int>) -> Int? {
    guard let text = scalarText("an integer") else { return nil }
    guard let value = Int(text) else {
      error("expected an integer, got '\(text)'")
      return nil
    }
    return check(value, in: range, shown: text)
  }

  package func check(_ value: Int, in range: ClosedRange<Int>, shown text: String) -> Int? {
    if value < range.lowerBound {
      error("must be at least \(range.lowerBound), got '\(text)'")
      return nil
    }
    if value > range.upperBound {
      error("must be at most \(range.upperBound), got '\(text)'")
      return nil
    }
    return value
  }

  package func double(in range: ClosedRange<Double>) -> Double? {
    guard let text = scalarText("a number") else { return nil }
    guard let value = Double(text), value.isFinite else {
      error("expected a number, got '\(text)'")
      return nil
    }
    guard range.contains(value) else {
      error("must be between \(range.lowerBound) and \(range.upperBound), got '\(text)'")
      return nil
    }
    return value
  }

  package func bool() -> Bool? {
    guard let text = scalarText("true or false") else { return nil }
    switch text {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    default:
      error("expected true or false, got '\(text)'")
      return nil
    }
  }

  package func duration(atLeast minimum: DurationValue = .init(nanoseconds: 0)) -> DurationValue? {
    guard let text = scalarText("a duration") else { return nil }
    guard let value = DurationValue(parsing: text) else {
      error("expected a duration such as '500ms', '10s' or '2m', got '\(text)'")
      return nil
    }
    if value < minimum {
      error(
        minimum.nanoseconds == 1
          ? "must be longer than 0, got '\(text)'"
          : "must be at least \(minimum), got '\(text)'")
      return nil
    }
    return value
  }

  package func percentage(max: Double = 100) -> Percentage? {
    guard let text = scalarText("a percentage") else { return nil }
    guard let value = Percentage(parsing: text) else {
      error("expected a percentage such as '5%', got '\(text)'")
      return nil
    }
    if value.percent > max {
      error("must be at most \(Int(max))%, got '\(text)'")
      return nil
    }
    return value
  }

  package func size() -> ByteSize? {
    guard let text = scalarText("a size") else { return nil }
    guard let value = ByteSize(parsing: text) else {
      error("expected a size such as '512M' or '2G', got '\(text)'")
      return nil
    }
    return value
  }

  package func cpuList() -> CPUSet? {
    guard let text = scalarText("a cpulist") else { return nil }
    guard let value = CPUSet(parsing: text), !value.isEmpty else {
      error("expected a cpulist such as '0-3,8', got '\(text)'")
      return nil
    }
    return value
  }

  package func cpuSelection() -> CPUSelection? {
    guard let text = scalarText("a CPU set") else { return nil }
    guard let value = CPUSelection(text.trimmingWhitespace()),
      value != .list([])
    else {
      error("expected a cpulist such as '0-3,8', 'non-entitled' or 'all', got '\(text)'")
      return nil
    }
    return value
  }

  package func choice<E: RawRepresentable & CaseIterable>(_: E.Type) -> E?
  where E.RawValue == String {
    guard let text = scalarText("one of \(Self.list(E.allCases.map(\.rawValue)))") else {
      return nil
    }
    guard let value = E(rawValue: text) else {
      let hint =
        Self.suggestion(for: text, among: E.allCases.map(\.rawValue)).map {
          " (did you mean '\($0)'?)"
        } ?? ""
      error("expected one of \(Self.list(E.allCases.map(\.rawValue))), got '\(text)'\(hint)")
      return nil
    }
    return value
  }

  // MARK: Helpers

  package static func list(_ words: [String]) -> String {
    words.map { "'\($0)'" }.joined(separator: ", ")
  }

  /// The closest allowed word within a small edit distance, for "did you mean".
  package static func suggestion(for word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    let limit = max(2, word.count / 3)
    if best.1 <= limit { return best.0 }
    // A prefix ('work' for 'workers') is also a likely slip.
    return candidates.first { $0.hasPrefix(word) && word.count >= 3 }
  }

  package static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
      }
      previous = current
    }
    return previous[b.count]
  }
}

/// The checked entries of one mapping.
package struct MappingReader {
  package let reader: NodeReader
  package let entries: [(key: String, keyNode: Node, value: Node)]

  package func has(_ key: String) -> Bool { entries.contains { $0.key == key } }

  /// The value of `key`, or nil when absent.
  package func optional(_ key: String) -> NodeReader? {
    entries.first { $0.key == key }.map { reader.child(key, $0.value) }
  }

  /// The value of `key`; reports "missing key" at the mapping when absent.
  package func required(_ key: String) -> NodeReader? {
    guard let value = optional(key) else {
      reader.error("missing key '\(key)'")
      return nil
    }
    return value
  }
}
