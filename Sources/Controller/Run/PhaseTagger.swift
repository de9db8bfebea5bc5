import Vocabulary

/// Tags measurement intervals `busy`, `idle` or `transition` from the noise host's edges.
///
/// An interval is `transition` when an edge falls inside it or when it starts less than
/// `settle` after an edge: the mode and the load are still moving then. Otherwise it
/// takes the phase in effect at its start. Before the first edge the noise host is idle.
package struct PhaseTagger: Sendable {
  /// Edge times (controller clock, ns since cell start) and the phase each one begins.
  package var edges: [(time: UInt64, phase: Phase)]
  package var settleNanoseconds: UInt64

  package init(edges: [(time: UInt64, phase: Phase)], settleNanoseconds: UInt64) {
    self.edges = edges.sorted { $0.time < $1.time }
    self.settleNanoseconds = settleNanoseconds
  }

  package func phase(start: UInt64, end: UInt64) -> Phase {
    var current = Phase.idle
    for edge in edges {
      if edge.time > start && edge.time < end { return .transition }
      if edge.time <= start {
        if start - edge.time < settleNanoseconds { return .transition }
        current = edge.phase
      }
    }
    return current
  }
}
