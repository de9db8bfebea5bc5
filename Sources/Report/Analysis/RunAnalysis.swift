import Foundation
import Results
import Vocabulary

/// Which bootstrap gives the 95 % intervals.
public enum IntervalChoice: String, Codable, Sendable, CaseIterable {
  /// Repetitions when a group has two or more, otherwise intervals.
  case auto
  /// Always over repetitions (one repetition: the interval is the single value).
  case repetitions
  /// Always over the intervals inside each cell.
  case intervals
}

/// Settings of an analysis.
public struct AnalysisOptions: Sendable, Equatable {
  public var phase: PhaseSelection
  public var seed: UInt64
  public var resamples: Int
  public var intervalChoice: IntervalChoice

  /// Creates settings; the defaults are what `pvbench report` uses.
  public init(
    phase: PhaseSelection = .busy, seed: UInt64 = 1, resamples: Int = 1000,
    intervalChoice: IntervalChoice = .auto
  ) {
    self.phase = phase
    self.seed = seed
    self.resamples = resamples
    self.intervalChoice = intervalChoice
  }
}

/// A mode and sweep point: the cells that are repetitions of one another.
public struct GroupKey: Codable, Sendable, Hashable, Comparable {
  public var modeID: String
  public var point: [String: String]

  public init(modeID: String, point: [String: String]) {
    self.modeID = modeID
    self.point = point
  }

  /// `key=value, …` in key order, or `-` for no sweep.
  public var pointText: String {
    point.isEmpty ? "-" : point.keys.sorted().map { "\($0)=\(point[$0]!)" }.joined(separator: ", ")
  }

  public static func < (lhs: GroupKey, rhs: GroupKey) -> Bool {
    (lhs.modeID, lhs.pointText) < (rhs.modeID, rhs.pointText)
  }
}

/// Steal of the measure host in one phase.
public struct StealFigure: Codable, Sendable, Equatable {
  /// One of `PhaseSelection.summaryKeys`: a phase, or `all`.
  public var phase: String
  /// Median across repetitions of each cell's mean steal %; nil when no source exists.
  public var percent: Double?
  public var source: StealSource
}

/// Everything the report says about one group, for the selected phase.
public struct GroupStats: Codable, Sendable {
  public var key: GroupKey
  public var label: String
  /// Ids of the valid (complete) cells used.
  public var cellIDs: [String]
  /// Intervals and wakeup samples in the selected phase, summed over the valid cells.
  public var intervals: Int
  public var wakeupSamples: UInt64
  /// Per valid cell: its intervals and samples in the phase, and whether it is short.
  public var cells: [CellCounts]
  /// Wakeup latency in µs, one estimate per report percentile; nil when no valid cell has a
  /// wakeup sample in the phase (no data is never a number).
  public var wakeup: [Estimate?]
  /// Request latency in µs, one estimate per report percentile; nil as for `wakeup`.
  public var request: [Estimate?]
  public var rps: Estimate?
  /// Why the phase holds no wakeup sample (e.g. "no busy interval outside the 1 s settle
  /// window"); nil when it holds some.
  public var noDataReason: String?
  /// Steal for busy, idle, transition and all.
  public var steal: [StealFigure]
  /// Latency by percentile (µs) over the pooled intervals of every valid cell: the nines curve.
  public var nines: [NinesPoint]
  /// Gaps (intervals of the workload's clock with no snapshot of their own) in the selected
  /// phase, summed over the valid cells; nil when the store predates gap counting.
  public var gaps: Int?
  /// `-R` mode: requests expected at the fixed rate against requests done, per phase
  /// (busy, idle, transition, all); empty when the workload ran schbench's closed loop.
  public var requests: [RequestFigure]
  /// Median across cells of each cell's mean busy % of the measure host's CPUs in the
  /// selected phase; nil without `/proc/stat` samples.
  public var measureBusyPercent: Double?
}

/// Requests of one phase in `-R` mode, summed over a group's valid cells.
public struct RequestFigure: Codable, Sendable, Equatable {
  /// One of `PhaseSelection.summaryKeys`.
  public var phase: String
  /// The fixed rate times the phase's seconds (its intervals' spans, gaps included).
  public var expected: Double
  /// Requests completed in the phase.
  public var done: Double

  /// `done / expected`, or nil when nothing was expected.
  public var fraction: Double? { expected > 0 ? done / expected : nil }
}

/// One cell's intervals and samples in the selected phase, against what its runtime gives.
public struct CellCounts: Codable, Sendable, Equatable {
  public var id: String
  /// Intervals in the phase.
  public var intervals: Int
  /// Wakeup and request samples in the phase.
  public var wakeupSamples: UInt64
  public var requestSamples: UInt64
  /// Intervals in every phase, and how many the runtime should give (`-r` / `-i`; nil when
  /// the manifest does not say).
  public var recordedIntervals: Int
  public var expectedIntervals: Int?
  /// Gaps in the phase and in every phase: intervals of the workload's clock the snapshot
  /// thread slept through (starved); nil when the store predates gap counting.
  public var gaps: Int?
  public var recordedGaps: Int?

  public init(
    id: String, intervals: Int, wakeupSamples: UInt64, requestSamples: UInt64,
    recordedIntervals: Int, expectedIntervals: Int?, gaps: Int? = nil, recordedGaps: Int? = nil
  ) {
    self.id = id
    self.intervals = intervals
    self.wakeupSamples = wakeupSamples
    self.requestSamples = requestSamples
    self.recordedIntervals = recordedIntervals
    self.expectedIntervals = expectedIntervals
    self.gaps = gaps
    self.recordedGaps = recordedGaps
  }

  /// Fewer intervals and gaps than the runtime gives, beyond the one the end of a cell may
  /// cut: intervals were lost (in a store without gap counts, the snapshot thread may also
  /// have been starved).
  public var isShort: Bool {
    expectedIntervals.map { recordedIntervals + (recordedGaps ?? 0) + 1 < $0 } ?? false
  }

  /// The snapshot thread woke late at least once: the cell has gaps.
  public var hasGaps: Bool { (recordedGaps ?? 0) > 0 }
}

/// One point of a nines curve.
public struct NinesPoint: Codable, Sendable, Equatable {
  public var percentile: Double
  public var microseconds: Double
}

/// Apply, restore and evacuation times of one mode, over its valid cells.
public struct ModeTimingSummary: Codable, Sendable, Equatable {
  public var modeID: String
  public var label: String
  /// `mode-apply`, `mode-restore` or `evacuated`.
  public var kind: EventKind
  public var count: Int
  public var medianMilliseconds: Double
  public var maxMilliseconds: Double
}

/// A cell that is not averaged in, with why.
public struct ExcludedCell: Codable, Sendable, Equatable {
  public var id: String
  /// `invalid`, `failed`, `partial`, `unfinished` (no summary) or `missing` (planned, no folder).
  public var status: String
  public var reasons: [String]
  /// The cell's mode and sweep point, when its summary says them.
  public var modeID: String? = nil
  public var point: [String: String]? = nil
}

/// One published number against ours.
public struct ExpectVerdict: Codable, Sendable, Equatable {
  public var modeID: String
  public var label: String
  /// Encoded as its results key (`"99.9"`), as before it was typed.
  public var percentile: PercentileKey
  public var published: Double
  /// Ours: nil when the run has no valid cell for the mode.
  public var ours: Estimate?
  /// `(ours − published) / published`, as a fraction.
  public var difference: Double?
  public var reproduced: Bool
}

/// The analysed run: every number a report prints, computed once.
public struct RunAnalysis: Codable, Sendable {
  public var manifest: RunManifest
  public var phase: PhaseSelection
  public var seed: UInt64
  public var resamples: Int
  /// Report percentiles (0–100).
  public var percentiles: [Double]
  /// Sweep points in first-seen plan order.
  public var points: [[String: String]]
  /// Groups in mode order, then point order.
  public var groups: [GroupStats]
  public var timings: [ModeTimingSummary]
  /// What each governor mode did, per sweep point (empty without a governor mode).
  public var governor: [GovernorSummary]
  /// The measure host's preferred set per mode, sweep point and source (the kernel's
  /// `preferred` file, pvbench's governor); empty when no cell recorded one.
  public var preferred: [PreferredSummary] = []
  /// What each host received per mode and sweep point, in the report's phase (empty
  /// without sample files).
  public var guests: [GuestSummary] = []
  public var excluded: [ExcludedCell]
  public var verdicts: [ExpectVerdict]
  /// The id of the cell the timeline plot shows.
  public var timelineCellID: String?
  /// Sentences under the tables: methods used and caveats.
  public var notes: [String]

  /// The group of `modeID` at `point`, if the run has valid cells there.
  public func group(_ modeID: String, _ point: [String: String]) -> GroupStats? {
    groups.first { $0.key.modeID == modeID && $0.key.point == point }
  }

  /// Modes that have at least one group, in manifest order.
  public var modesWithData: [ModeRecord] {
    manifest.modes.filter { mode in groups.contains { $0.key.modeID == mode.id } }
  }
}
