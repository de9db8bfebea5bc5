/// Why `pvbench merge` refused its input or could not write its output.
package struct MergeError: Error, CustomStringConvertible, Sendable {
  package enum Kind: Sendable {
    /// The runs given cannot be merged (another experiment, an overlap, not a run).
    case input
    /// The merged run could not be written.
    case io
  }

  package var kind: Kind
  package var description: String

  package init(_ kind: Kind, _ description: String) {
    self.kind = kind
    self.description = description
  }
}
