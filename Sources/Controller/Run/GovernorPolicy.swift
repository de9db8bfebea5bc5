/// The decision rule of pvbench's own steal-time governor (DESIGN §6).
///
/// Every interval the governor reads the measure host's steal %. Above `high` it folds
/// one more core (all its SMT siblings, highest-numbered core first); at or below `low`
/// it unfolds one; in between it holds, so that a steal level between the thresholds
/// does not make it oscillate. It never folds an entitled core.
package struct GovernorPolicy: Sendable, Equatable {
  package var highPercent: Double
  package var lowPercent: Double
  /// Cores the host has beyond its entitlement: the most the governor may fold.
  package var foldableCores: Int

  /// The number of folded cores after one interval with `stealPercent`.
  package func next(folded: Int, stealPercent: Double) -> Int {
    if stealPercent > highPercent { return min(foldableCores, folded + 1) }
    if stealPercent <= lowPercent { return max(0, folded - 1) }
    return folded
  }

  /// The CPUs to avoid with `folded` cores folded: the last `folded` cores, all siblings.
  package static func avoidedCPUs(cores: [[Int]], folded: Int) -> [Int] {
    let ordered = cores.sorted { ($0.first ?? 0) < ($1.first ?? 0) }
    return ordered.suffix(folded).flatMap { $0 }.sorted()
  }

  /// Memberwise.
  package init(
    highPercent: Double,
    lowPercent: Double,
    foldableCores: Int
  ) {
    self.highPercent = highPercent
    self.lowPercent = lowPercent
    self.foldableCores = foldableCores
  }
}
