/// Estimates how far a host's monotonic clock is from the controller's.
///
/// Each round trip brackets the host's reading between two controller readings; the
/// round trip with the smallest width bounds the offset best (Cristian's method), so
/// the estimate keeps that one. Its half width is the uncertainty.
package struct ClockOffset: Sendable, Equatable {
  /// host − controller, in nanoseconds.
  package var offsetNanoseconds: Int64
  /// Half the tightest round trip: the offset is right within this.
  package var uncertaintyNanoseconds: UInt64

  package static let zero = ClockOffset(offsetNanoseconds: 0, uncertaintyNanoseconds: 0)

  /// The estimate from round trips `(sent, hostReading, received)`; nil when there are none.
  package static func estimate(_ samples: [(sent: UInt64, host: UInt64, received: UInt64)])
    -> ClockOffset?
  {
    guard
      let best = samples.filter({ $0.received >= $0.sent }).min(by: {
        $0.received - $0.sent < $1.received - $1.sent
      })
    else { return nil }
    let midpoint = best.sent + (best.received - best.sent) / 2
    return ClockOffset(
      offsetNanoseconds: Int64(bitPattern: best.host &- midpoint),
      uncertaintyNanoseconds: (best.received - best.sent) / 2)
  }

  /// A host time on the controller's clock.
  package func controllerTime(ofHost time: UInt64) -> UInt64 {
    UInt64(bitPattern: Int64(bitPattern: time) &- offsetNanoseconds)
  }
}
