import Foundation
import Results
import Vocabulary

extension ReportRenderer {
  /// The header lines that say how the host pool dispatched the guests: the model with its
  /// window and host CPUs, then one line per guest with what a reader needs to repeat it.
  /// - Parameter sweepKeys: the run's swept keys; a swept key that changes the pool (a
  ///   `pool.` key, or a guest's entitlement, cap or uncapped weight) is named, and the
  ///   quotas are marked as the file's, since the record holds the file's values and each
  ///   point has its own.
  package static func poolLines(_ pool: PoolRecord, sweepKeys: [String] = []) -> [String] {
    var line = "pool model: " + (PoolModel(rawValue: pool.model)?.summary ?? pool.model)
    if let window = pool.windowMicroseconds {
      line += "; window \(Self.duration(microseconds: window))"
    }
    line += "; \(pool.hostCPUs) host CPU\(pool.hostCPUs == 1 ? "" : "s")"
    let swept = sweepKeys.filter { $0.hasPrefix("pool.") || PoolClaim.isClaimKey($0) }
    if !swept.isEmpty {
      line += "; swept per point: " + swept.joined(separator: ", ")
    }
    var lines = [line]
    for guest in pool.guests {
      var text = "pool guest \(guest.name): entitled \(PoolClaim.figure(guest.entitled))"
      text +=
        guest.capped
        ? ", capped" : ", uncapped weight \(guest.uncappedWeight.map(String.init) ?? "-")"
      if let cpus = guest.dispatchCPUs, let window = pool.windowMicroseconds {
        let quota = Int((cpus * Double(window)).rounded())
        text +=
          ", vCPU quota \(Self.duration(microseconds: quota)) per "
          + "\(Self.duration(microseconds: window))"
          + (swept.isEmpty ? "" : " (the file's; each point has its own)")
      }
      lines.append(text)
    }
    return lines
  }

  /// 10000 → `10ms`, 1500 → `1.5ms`, 1000000 → `1s`.
  private static func duration(microseconds: Int) -> String {
    if microseconds % 1_000_000 == 0 { return "\(microseconds / 1_000_000)s" }
    if microseconds % 1000 == 0 { return "\(microseconds / 1000)ms" }
    if microseconds >= 1000 { return PoolClaim.figure(Double(microseconds) / 1000) + "ms" }
    return "\(microseconds)us"
  }
}
