/// One problem found in an experiment file.
package struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
  /// The file as the user named it.
  package var file: String
  /// 1-based position; nil when the problem has no place in the text (a missing file).
  package var line: Int?
  package var column: Int?
  /// Dotted key path (`measure.schbench.workers`), empty for whole-file problems.
  package var keyPath: String
  package var message: String
  /// An error stops the file from running; a warning is printed and the file runs.
  package var severity: Severity = .error

  package enum Severity: String, Sendable, Equatable {
    case error, warning
  }

  /// `path:line:column: error: key.path: message`, the form editors and CI logs understand.
  package var description: String {
    var location = file
    if let line, let column { location += ":\(line):\(column)" }
    let subject = keyPath.isEmpty ? "" : "\(keyPath): "
    return "\(location): \(severity.rawValue): \(subject)\(message)"
  }
}

/// Collects every problem of one pass over a file, in the order found.
package final class DiagnosticSink: @unchecked Sendable {
  package private(set) var diagnostics: [Diagnostic] = []
  package let file: String

  package init(file: String) { self.file = file }

  package func error(_ message: String, at mark: (line: Int, column: Int)?, keyPath: String) {
    let diagnostic = Diagnostic(
      file: file, line: mark?.line, column: mark?.column, keyPath: keyPath, message: message)
    // The same node can be checked from two sweep points; say it once.
    if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
  }

  /// Problems that do not stop the file from running, in the order found.
  package private(set) var warnings: [Diagnostic] = []

  package func warning(_ message: String, at mark: (line: Int, column: Int)?, keyPath: String) {
    let diagnostic = Diagnostic(
      file: file, line: mark?.line, column: mark?.column, keyPath: keyPath, message: message,
      severity: .warning)
    if !warnings.contains(diagnostic) { warnings.append(diagnostic) }
  }

  package var isEmpty: Bool { diagnostics.isEmpty }
}

/// An experiment file that cannot run; `description` is every problem, one per line.
package struct SpecError: Error, CustomStringConvertible {
  package var diagnostics: [Diagnostic]

  package var description: String { diagnostics.map(\.description).joined(separator: "\n") }

  /// Memberwise.
  package init(
    diagnostics: [Diagnostic]
  ) {
    self.diagnostics = diagnostics
  }
}
