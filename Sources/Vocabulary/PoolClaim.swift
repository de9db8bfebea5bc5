import Foundation

/// A guest's claim on a shared pool of host CPUs, as PowerVM's shared-processor pool sees a
/// partition: its entitlement, whether it is capped, and its uncapped weight.
package struct PoolClaim: Sendable, Equatable {
  /// The guest's name.
  package var guest: String
  /// Entitled CPUs (processing units).
  package var entitled: Double
  /// Whether its CPU time is limited to its entitlement.
  package var capped: Bool
  /// PowerVM's uncapped weight (0-255): its share of the capacity no entitlement claims.
  package var uncappedWeight: Int

  package init(guest: String, entitled: Double, capped: Bool, uncappedWeight: Int) {
    self.guest = guest
    self.entitled = entitled
    self.capped = capped
    self.uncappedWeight = uncappedWeight
  }

  /// Whether a sweep key changes a guest's claim (`hosts.NAME.entitled`, `.uncapped_weight`
  /// or `.qemu.capped`), and with it every guest's dispatch quota.
  package static func isClaimKey(_ key: String) -> Bool {
    key.hasPrefix("hosts.")
      && [".entitled", ".uncapped_weight", ".qemu.capped"].contains { key.hasSuffix($0) }
  }

  /// The pool capacity no entitlement claims: `poolCPUs` minus every entitlement, at least 0.
  package static func unclaimedCPUs(_ claims: [PoolClaim], poolCPUs: Int) -> Double {
    max(0, Double(poolCPUs) - claims.map(\.entitled).reduce(0, +))
  }

  /// A CPU count or share as plans and report headers print it: 1 → `1`, 0.5 → `0.5`, 2/3 → `0.667`.
  package static func figure(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value))" : String(format: "%.3g", value)
  }

  /// The CPUs' worth of time per window each guest's vCPUs may use under `dispatch`: its
  /// entitlement, plus, when it is not capped, the share of the pool capacity no
  /// entitlement claims (`poolCPUs` minus every entitlement) that its uncapped weight gives
  /// it among the uncapped guests. A weight of 0 gets no share, as on PowerVM.
  /// - Parameters:
  ///   - claims: the pool's guests.
  ///   - poolCPUs: the host CPUs of the pool.
  /// - Returns: CPUs per guest name.
  package static func dispatchCPUs(_ claims: [PoolClaim], poolCPUs: Int) -> [String: Double] {
    let unclaimed = unclaimedCPUs(claims, poolCPUs: poolCPUs)
    let weights = claims.filter { !$0.capped }.map(\.uncappedWeight).reduce(0, +)
    var result: [String: Double] = [:]
    for claim in claims {
      var cpus = claim.entitled
      if !claim.capped, weights > 0 {
        cpus += unclaimed * Double(claim.uncappedWeight) / Double(weights)
      }
      result[claim.guest] = cpus
    }
    return result
  }
}
