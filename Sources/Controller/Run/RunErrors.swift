/// A host cannot run the experiment; nothing was changed on any host.
package struct PreflightError: Error, CustomStringConvertible, Sendable {
  package var report: String
  package var description: String { report }
  package init(report: String) { self.report = report }
}

/// The user interrupted the run before its cells started.
package struct InterruptedError: Error, CustomStringConvertible, Sendable {
  package var signal: String
  package init(signal: String) { self.signal = signal }
  package var description: String { "interrupted by \(signal) while connecting to the hosts" }
}

/// A run that cannot go on; the message says what happened and what to do.
package struct RunError: Error, CustomStringConvertible, Sendable {
  package var description: String
  package init(_ description: String) { self.description = description }
}
