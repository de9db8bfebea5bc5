import Foundation
import Results
import Vocabulary

/// One host's figures in one phase, median over the valid cells of a group.
public struct GuestFigure: Codable, Sendable, Equatable {
  /// CPUs' worth of time this machine gave the guest's vCPU threads (1.0 = one host CPU).
  public var cpusReceived: Double?
  /// Mean run-queue wait of its vCPU threads, % of wall time (host-side steal).
  public var stealPercent: Double?
  /// Busy % of the host's own online CPUs (its /proc/stat).
  public var busyPercent: Double?
}

/// Every host's figures for one mode at one sweep point.
public struct GuestSummary: Codable, Sendable, Equatable {
  public var key: GroupKey
  public var cells: Int
  /// By host name.
  public var hosts: [String: GuestFigure]
}

extension RunAnalysis {
  /// One summary per group with sample files, figures of `phase` (medians over cells).
  static func guestSummaries(byKey: [GroupKey: [CellDigest]], phase: PhaseSelection)
    -> [GuestSummary]
  {
    var summaries: [GuestSummary] = []
    for (key, cells) in byKey {
      let figures = cells.compactMap(\.guests)
      guard !figures.isEmpty else { continue }
      var hosts: [String: GuestFigure] = [:]
      for name in Set(figures.flatMap(\.sums.keys)) {
        let sums = figures.compactMap { $0.sums[name]?[phase] }
        func median(_ value: (GuestCellFigures.Sums) -> Double?) -> Double? {
          let values = sums.compactMap(value)
          return values.isEmpty ? nil : Statistics.median(values)
        }
        let figure = GuestFigure(
          cpusReceived: median {
            $0.wallNanoseconds > 0 ? $0.runNanoseconds / $0.wallNanoseconds : nil
          },
          stealPercent: median {
            $0.threadWallNanoseconds > 0 ? $0.waitNanoseconds / $0.threadWallNanoseconds * 100 : nil
          },
          busyPercent: median { $0.totalTicks > 0 ? $0.busyTicks / $0.totalTicks * 100 : nil })
        if figure.cpusReceived != nil || figure.busyPercent != nil { hosts[name] = figure }
      }
      if !hosts.isEmpty {
        summaries.append(GuestSummary(key: key, cells: figures.count, hosts: hosts))
      }
    }
    return summaries
  }
}
