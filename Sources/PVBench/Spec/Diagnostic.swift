/// One problem found in an experiment file.
struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
  /// The file as the user named it.
  var file: String
  /// 1-based position; nil when the problem has no place in the text (a missing file).
  var line: Int?
  var column: Int?
  /// Dotted key path (`measure.schbench.workers`), empty for whole-file problems.
  var keyPath: String
  var message: String

  /// `path:line:column: error: key.path: message`, the form editors and CI logs understand.
  var description: String {
    var location = file
    if let line, let column { location += ":\(line):\(column)" }
    let subject = keyPath.isEmpty ? "" : "\(keyPath): "
    return "\(location): error: \(subject)\(message)"
  }
}

/// Collects every problem of one pass over a file, in the order found.
final class DiagnosticSink: @unchecked Sendable {
  private(set) var diagnostics: [Diagnostic] = []
  let file: String

  init(file: String) { self.file = file }

  func error(_ message: String, at mark: (line: Int, column: Int)?, keyPath: String) {
    let diagnostic = Diagnostic(
      file: file, line: mark?.line, column: mark?.column, keyPath: keyPath, message: message)
    // The same node can be checked from two sweep points; say it once.
    if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
  }

  var isEmpty: Bool { diagnostics.isEmpty }
}

/// An experiment file that cannot run; `description` is every problem, one per line.
struct SpecError: Error, CustomStringConvertible {
  var diagnostics: [Diagnostic]

  var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
