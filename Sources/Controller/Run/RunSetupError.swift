/// A run that cannot start as asked: the folder to resume holds another run, or the shard
/// does not fit the plan. Nothing ran and no host was touched.
package struct RunSetupError: Error, CustomStringConvertible, Sendable, Equatable {
  /// What does not fit and the command that would.
  package var description: String
  package init(_ description: String) { self.description = description }
}
