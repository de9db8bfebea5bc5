import Foundation
import Results
import Vocabulary

/// One valid cell reduced to what the analysis reads, so a report never holds every
/// interval of a run at once: merged histograms per phase selection, means, counts, and
/// the per-interval histograms only where the interval bootstrap needs them.
struct CellDigest: Sendable {
  /// The figures of one phase selection (busy, idle or all).
  struct PhaseDigest: Sendable {
    var intervals: Int
    /// Intervals of the workload's clock with no snapshot of their own; nil when the store
    /// predates gap counting.
    var gaps: Int?
    var wakeup: SparseHistogram
    var request: SparseHistogram
    /// Mean rps over the phase's intervals; nil without an interval.
    var meanRPS: Double?
    /// Per interval, in order: kept only for the interval bootstrap (one repetition).
    var intervalWakeup: [SparseHistogram]?
    var intervalRequest: [SparseHistogram]?
    var intervalRPS: [Double]?
  }

  var id: String
  var summary: CellSummary
  var events: [EventRecord]
  /// Intervals in every phase.
  var recordedIntervals: Int
  /// Gaps in every phase; nil when the store predates gap counting.
  var recordedGaps: Int?
  var phases: [PhaseSelection: PhaseDigest]
  /// Mean steal % per `PhaseSelection.summaryKeys` entry; absent without a figure.
  var steal: [String: Double]
  /// Per `PhaseSelection.summaryKeys` entry: the phase's seconds (the intervals' spans,
  /// gaps included) and the requests done in it.
  var requests: [String: (seconds: Double, done: Double)]
  /// Mean busy % of the measure host's CPUs per `PhaseSelection.summaryKeys` entry.
  var measureBusy: [String: Double]
  /// The first interval's steal source other than `none`.
  var intervalStealSource: StealSource?
  /// What the governor did, for cells of a governor mode.
  var governor: GovernorCellFigures?
  /// The measure host's preferred set over the cell, per source that recorded one.
  var preferred: [PreferredCellFigures] = []
  /// What each host received per phase, from the cell's sample files.
  var guests: GuestCellFigures?

  /// Reduces `cell` for `selections`; keeps per-interval histograms when `keepIntervals`.
  init(
    _ cell: StoredCell, summary: CellSummary, selections: Set<PhaseSelection>,
    keepIntervals: Bool, governorHost: HostRecord?? = nil, folder: URL? = nil,
    measureHost: HostRecord? = nil
  ) {
    id = cell.id
    self.summary = summary
    events = cell.events
    recordedIntervals = cell.intervals.count
    recordedGaps = Self.gaps(cell.intervals)
    var phases: [PhaseSelection: PhaseDigest] = [:]
    for selection in selections {
      let inPhase = cell.intervals.filter { selection.includes($0.phase) }
      phases[selection] = PhaseDigest(
        intervals: inPhase.count, gaps: Self.gaps(inPhase),
        wakeup: SparseHistogram.merged(inPhase.map(\.wakeup)),
        request: SparseHistogram.merged(inPhase.map(\.request)),
        meanRPS: inPhase.isEmpty ? nil : inPhase.reduce(0) { $0 + $1.rps } / Double(inPhase.count),
        intervalWakeup: keepIntervals ? inPhase.map(\.wakeup) : nil,
        intervalRequest: keepIntervals ? inPhase.map(\.request) : nil,
        intervalRPS: keepIntervals ? inPhase.map(\.rps) : nil)
    }
    self.phases = phases
    var steal: [String: Double] = [:]
    var requests: [String: (seconds: Double, done: Double)] = [:]
    var measureBusy: [String: Double] = [:]
    for name in PhaseSelection.summaryKeys {
      let inPhase = cell.intervals.filter {
        name == PhaseSelection.all.rawValue || $0.phase.rawValue == name
      }
      let values = inPhase.compactMap(\.stealPercent)
      if !values.isEmpty { steal[name] = values.reduce(0, +) / Double(values.count) }
      let busy = inPhase.compactMap(\.measureBusyPercent)
      if !busy.isEmpty { measureBusy[name] = busy.reduce(0, +) / Double(busy.count) }
      if !inPhase.isEmpty {
        requests[name] = (
          inPhase.reduce(0) { $0 + Double($1.endNanoseconds &- $1.startNanoseconds) / 1e9 },
          inPhase.reduce(0) { $0 + $1.requests }
        )
      }
    }
    self.steal = steal
    self.requests = requests
    self.measureBusy = measureBusy
    intervalStealSource = cell.intervals.first { $0.stealSource != .none }?.stealSource
    governor = governorHost.flatMap { GovernorCellFigures(cell, host: $0) }
    preferred = PreferredCellFigures.of(cell, host: measureHost)
    guests = folder.flatMap {
      GuestCellFigures(
        folder: $0, events: cell.events,
        settleNanoseconds: UInt64(max(0, summary.settleMilliseconds)) * 1_000_000)
    }
  }

  /// Missed intervals summed over `intervals`; nil when none of them says (an older store).
  static func gaps(_ intervals: [IntervalRecord]) -> Int? {
    let known = intervals.compactMap(\.missedIntervals)
    return known.isEmpty && !intervals.isEmpty ? nil : known.reduce(0, +)
  }
}
