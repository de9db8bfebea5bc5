/// An error of the local QEMU guest machinery, worded as full sentences a person can act on.
///
/// Every message says what happened, where (the file, the guest or the cgroup), and what to
/// do next. The text is the whole contract: tests assert it exactly.
package struct VMError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The sentence(s) printed to the user.
  package var description: String

  /// Creates an error with the given message.
  package init(_ description: String) {
    self.description = description
  }
}
