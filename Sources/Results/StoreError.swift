/// A results store that cannot be written or read.
package struct StoreError: Error, CustomStringConvertible, Sendable {
  package var description: String
  package init(_ description: String) { self.description = description }
}
