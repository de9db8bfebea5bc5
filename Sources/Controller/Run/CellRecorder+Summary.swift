import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

/// The cell's results: each interval tagged with its phase, steal and mode, the final
/// intervals file, the validity gates and the summary.
extension CellRecorder {
  /// One interval as the intervals file stores it, tagged with what is known now.
  func record(
    index: Int, _ interval: SchbenchInterval, tagger: PhaseTagger, stealSource: StealSource
  ) -> IntervalRecord {
    let start = relative(host: measureHost, interval.startMonotonicNanoseconds)
    let end = relative(host: measureHost, interval.endMonotonicNanoseconds)
    let stealPercent: Double? =
      switch stealSource {
      case .guest: steal.cpuShare(host: measureHost, from: start, to: end)?.steal
      case .host: steal.hostStealPercent(host: measureHost, from: start, to: end)
      case .none: nil
      }
    return IntervalRecord(
      index: index, startNanoseconds: start, endNanoseconds: end,
      phase: tagger.phase(start: start, end: end), wakeup: SparseHistogram(interval.wakeup),
      request: SparseHistogram(interval.request), rps: interval.rps, stealPercent: stealPercent,
      stealSource: stealSource,
      noiseBusyPercent: noiseHost.flatMap { steal.cpuShare(host: $0, from: start, to: end)?.busy },
      modeApplied: modeApplied(at: start + (end - start) / 2), slot: interval.slot,
      missedIntervals: interval.missedIntervals,
      measureBusyPercent: steal.cpuShare(host: measureHost, from: start, to: end)?.busy)
  }

  /// The steal source as far as the cell has got (the final one is chosen in `finish`).
  func provisionalStealSource() -> StealSource {
    guestReportsSteal() ? .guest : steal.hasHostSteal(host: measureHost) ? .host : .none
  }

  /// Tags, stores and summarises the intervals; checks the validity gates.
  package func finish(
    status requested: CellStatus, settle: DurationValue, stealAccounting: Bool,
    percentiles: [Double], busyGate: Double?
  ) throws -> CellSummary {
    let tagger = PhaseTagger(edges: edgeList(), settleNanoseconds: settle.nanoseconds)
    let useGuestSteal = stealAccounting && guestReportsSteal()
    let hasHostSteal = steal.hasHostSteal(host: measureHost)
    let stealSource: StealSource = useGuestSteal ? .guest : hasHostSteal ? .host : .none
    var records: [IntervalRecord] = []
    for (index, interval) in locked({ intervals }).enumerated() {
      let record = record(index: index, interval, tagger: tagger, stealSource: stealSource)
      // An interval that cannot be stored (a NaN rps) invalidates the cell, and stays out
      // of the summary so that the summary describes what the intervals file holds.
      do {
        _ = try writer.line(record)
        records.append(record)
      } catch {
        invalidate("\(error); the cell's intervals are incomplete")
      }
    }
    do { try writer.replaceIntervals(records) } catch {
      invalidate("\(error); the cell's intervals are incomplete")
    }

    var reasons = locked { self.reasons }
    for report in locked({ phaseReports }) where report.phase == .busy {
      if let busyGate, report.busyFraction < busyGate {
        reasons.append(
          "\(noiseHost ?? "noise"): busy phase \(report.cycle) reached "
            + "\(String(format: "%.0f", report.busyFraction * 100))% busy, under the "
            + "\(String(format: "%.0f", busyGate * 100))% gate")
      }
    }
    if records.isEmpty && requested == .complete {
      reasons.append("\(measureHost): the workload reported no intervals")
    }
    var status = requested
    if let failure = locked({ self.failure }) {
      status = .failed
      reasons.insert(failure, at: 0)
    } else if status == .complete && !reasons.isEmpty {
      status = .invalid
    }

    var phases: [String: PhaseSummary] = [:]
    for phase in Phase.allCases {
      phases[phase.rawValue] = Self.summarise(
        records.filter { $0.phase == phase }, percentiles: percentiles)
    }
    phases[PhaseSelection.all.rawValue] = Self.summarise(records, percentiles: percentiles)
    let summary = CellSummary(
      id: cell.id, modeID: cell.modeID,
      point: Dictionary(uniqueKeysWithValues: cell.point.map { ($0.key, $0.value) }),
      repetition: cell.repetition, status: status, reasons: reasons,
      startedAt: Timestamps.iso(Self.wallClock(ofMonotonic: start)),
      endedAt: Timestamps.iso(Date()), phases: phases, stealSource: stealSource,
      settleMilliseconds: Int(settle.nanoseconds / 1_000_000),
      workersPerMessageThread: locked { workersPerMessageThread },
      preferredPushes: locked { workloadSched }.map {
        PreferredPushRecord(
          threads: $0.threads, threadsRead: $0.read,
          nonPreferredMigrations: $0.nonPreferredMigrations, schedstats: $0.schedstats)
      })
    try writer.finish(summary)
    return summary
  }

  package static func summarise(_ records: [IntervalRecord], percentiles: [Double]) -> PhaseSummary
  {
    let wakeup = SparseHistogram.merged(records.map(\.wakeup))
    let request = SparseHistogram.merged(records.map(\.request))
    func table(_ histogram: SparseHistogram) -> [String: Double] {
      guard histogram.total > 0 else { return [:] }
      var result: [String: Double] = [:]
      for percentile in percentiles {
        result[PercentileKey(percentile).key] =
          Double(histogram.value(atPercentile: percentile)) / 1000
      }
      return result
    }
    let steal = records.compactMap(\.stealPercent)
    let busy = records.compactMap(\.noiseBusyPercent)
    return PhaseSummary(
      intervals: records.count, gaps: records.reduce(0) { $0 + ($1.missedIntervals ?? 0) },
      wakeupSamples: wakeup.total,
      wakeupPercentilesMicroseconds: table(wakeup), requestPercentilesMicroseconds: table(request),
      averageRPS: records.isEmpty ? 0 : records.map(\.rps).reduce(0, +) / Double(records.count),
      stealPercent: steal.isEmpty ? nil : steal.reduce(0, +) / Double(steal.count),
      noiseBusyPercent: busy.isEmpty ? nil : busy.reduce(0, +) / Double(busy.count))
  }

  /// The wall-clock moment of a controller monotonic time.
  static func wallClock(ofMonotonic time: UInt64) -> Date {
    let now = monotonicNow()
    return Date().addingTimeInterval(-Double(Int64(now) - Int64(time)) / 1e9)
  }
}
