import Vocabulary

// The on-disk records of a results store (docs/results-format.md).
// The run engine writes them; the report reads them. Every file is JSON
// (or JSON lines) so that a reviewer can read a run with jq.

/// `manifest.json` at the top of a run folder.
public struct RunManifest: Codable, Sendable, Equatable {
  public var pvbenchVersion: String
  public var experimentName: String
  public var runID: String
  /// The exact command line that started the run.
  public var commandLine: [String]
  public var startedAt: String
  public var endedAt: String?
  public var hosts: [HostRecord]
  /// Modes in the order of the experiment file.
  public var modes: [ModeRecord]
  /// Ids of every planned cell, in plan order.
  public var plannedCells: [String]
  /// What the schedule was, one line, for report headers ("busy 10s / idle 10s, 3 repetitions").
  public var scheduleDescription: String
  /// Dotted key paths the experiment sweeps, in file order (`noise.stress.busy`).
  public var sweepKeys: [String]
  /// Repetitions per point.
  public var repetitions: Int
  /// Percentiles the report shows (`[50, 90, 99, 99.9]` unless the file says otherwise).
  public var reportPercentiles: [Double]
  /// Published numbers to check against, when the file has `expect:`.
  public var expect: ExpectRecord?

  public init(
    pvbenchVersion: String, experimentName: String, runID: String, commandLine: [String],
    startedAt: String, endedAt: String? = nil, hosts: [HostRecord], modes: [ModeRecord],
    plannedCells: [String], scheduleDescription: String, sweepKeys: [String] = [],
    repetitions: Int = 1, reportPercentiles: [Double] = [50, 90, 99, 99.9],
    expect: ExpectRecord? = nil
  ) {
    self.pvbenchVersion = pvbenchVersion
    self.experimentName = experimentName
    self.runID = runID
    self.commandLine = commandLine
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.hosts = hosts
    self.modes = modes
    self.plannedCells = plannedCells
    self.scheduleDescription = scheduleDescription
    self.sweepKeys = sweepKeys
    self.repetitions = repetitions
    self.reportPercentiles = reportPercentiles
    self.expect = expect
  }
}

/// One host as the manifest records it.
public struct HostRecord: Codable, Sendable, Equatable {
  public var name: String
  /// `measure`, `noise` or `idle`.
  public var role: String
  /// `local`, `ssh` or `qemu`.
  public var transport: String
  public var kernelRelease: String
  public var kernelCmdline: String
  public var cpusPresent: String
  public var cpusOnline: String
  public var cores: Int
  public var threadsPerCore: Int
  public var entitled: Int?
  /// Mode interfaces found, e.g. `["hotplug", "cpuset-v2"]`.
  public var interfaces: [String]
  public var stealAccounting: Bool

  public init(
    name: String, role: String, transport: String, kernelRelease: String, kernelCmdline: String,
    cpusPresent: String, cpusOnline: String, cores: Int, threadsPerCore: Int, entitled: Int?,
    interfaces: [String], stealAccounting: Bool
  ) {
    self.name = name
    self.role = role
    self.transport = transport
    self.kernelRelease = kernelRelease
    self.kernelCmdline = kernelCmdline
    self.cpusPresent = cpusPresent
    self.cpusOnline = cpusOnline
    self.cores = cores
    self.threadsPerCore = threadsPerCore
    self.entitled = entitled
    self.interfaces = interfaces
    self.stealAccounting = stealAccounting
  }
}

/// One mode of the experiment: its id in cell ids, its kind and the label reviewers read.
public struct ModeRecord: Codable, Sendable, Equatable {
  /// Stable id, e.g. `hotplug` or `cpuset-2` when a kind repeats.
  public var id: String
  /// `out-of-box`, `hotplug`, `paravirt`, `preferred`, `cpuset` or `governor`.
  public var kind: String
  /// Column title, e.g. `Out of Box`, `cpu_hotplug`.
  public var label: String

  public init(id: String, kind: String, label: String) {
    self.id = id
    self.kind = kind
    self.label = label
  }
}

/// Where a steal figure came from.
public enum StealSource: String, Codable, Sendable {
  /// The guest kernel's own `/proc/stat` steal column.
  case guest
  /// The run-queue wait of QEMU's vCPU threads on the host.
  case host
  /// No source: the figure is absent.
  case none
}

/// Percentiles and counts of one phase of one cell.
public struct PhaseSummary: Codable, Sendable, Equatable {
  public var intervals: Int
  public var wakeupSamples: UInt64
  /// Wakeup latency percentiles in microseconds, keyed `"50.0"`, `"90.0"`, `"99.0"`, `"99.9"`.
  public var wakeupPercentilesMicroseconds: [String: Double]
  public var requestPercentilesMicroseconds: [String: Double]
  public var averageRPS: Double
  /// Mean steal % of the measure host in this phase, if a source exists.
  public var stealPercent: Double?
  /// Mean busy % of the noise host's CPUs in this phase.
  public var noiseBusyPercent: Double?

  public init(
    intervals: Int, wakeupSamples: UInt64, wakeupPercentilesMicroseconds: [String: Double],
    requestPercentilesMicroseconds: [String: Double], averageRPS: Double,
    stealPercent: Double? = nil, noiseBusyPercent: Double? = nil
  ) {
    self.intervals = intervals
    self.wakeupSamples = wakeupSamples
    self.wakeupPercentilesMicroseconds = wakeupPercentilesMicroseconds
    self.requestPercentilesMicroseconds = requestPercentilesMicroseconds
    self.averageRPS = averageRPS
    self.stealPercent = stealPercent
    self.noiseBusyPercent = noiseBusyPercent
  }
}

/// The state of a cell.
public enum CellStatus: String, Codable, Sendable {
  /// Ran to the end and passed every validity gate.
  case complete
  /// Ran to the end but failed a validity gate; kept, never averaged in.
  case invalid
  /// Interrupted; what was measured is kept, resume runs it again.
  case partial
  /// A host failed; resume runs it again.
  case failed
}

/// `cells/<id>/cell.json`, written last and atomically: its presence means the cell ended.
public struct CellSummary: Codable, Sendable, Equatable {
  public var id: String
  public var modeID: String
  /// Swept values by dotted key path, normalised to text (`"noise.stress.busy": "10s"`).
  public var point: [String: String]
  public var repetition: Int
  public var status: CellStatus
  public var reasons: [String]
  public var startedAt: String
  public var endedAt: String
  /// Keyed by `busy`, `idle`, `transition` and `all`.
  public var phases: [String: PhaseSummary]
  public var stealSource: StealSource
  /// The settle window after each edge, in milliseconds, during which intervals are `transition`.
  public var settleMilliseconds: Int

  public init(
    id: String, modeID: String, point: [String: String], repetition: Int, status: CellStatus,
    reasons: [String], startedAt: String, endedAt: String, phases: [String: PhaseSummary],
    stealSource: StealSource, settleMilliseconds: Int
  ) {
    self.id = id
    self.modeID = modeID
    self.point = point
    self.repetition = repetition
    self.status = status
    self.reasons = reasons
    self.startedAt = startedAt
    self.endedAt = endedAt
    self.phases = phases
    self.stealSource = stealSource
    self.settleMilliseconds = settleMilliseconds
  }
}

/// One line of `cells/<id>/intervals.jsonl`: one measurement interval of the measure host.
public struct IntervalRecord: Codable, Sendable, Equatable {
  public var index: Int
  /// Interval start and end in nanoseconds since the cell started, on the controller's clock.
  public var startNanoseconds: UInt64
  public var endNanoseconds: UInt64
  public var phase: Phase
  public var wakeup: SparseHistogram
  public var request: SparseHistogram
  public var rps: Double
  /// Steal % of the measure host over this interval, and its source.
  public var stealPercent: Double?
  public var stealSource: StealSource
  /// Busy % over the noise host's CPUs during this interval.
  public var noiseBusyPercent: Double?
  /// Whether the mode was applied on the measure host during this interval.
  public var modeApplied: Bool

  public init(
    index: Int, startNanoseconds: UInt64, endNanoseconds: UInt64, phase: Phase,
    wakeup: SparseHistogram, request: SparseHistogram, rps: Double, stealPercent: Double?,
    stealSource: StealSource, noiseBusyPercent: Double?, modeApplied: Bool
  ) {
    self.index = index
    self.startNanoseconds = startNanoseconds
    self.endNanoseconds = endNanoseconds
    self.phase = phase
    self.wakeup = wakeup
    self.request = request
    self.rps = rps
    self.stealPercent = stealPercent
    self.stealSource = stealSource
    self.noiseBusyPercent = noiseBusyPercent
    self.modeApplied = modeApplied
  }
}

/// One line of `cells/<id>/events.jsonl`.
public struct EventRecord: Codable, Sendable, Equatable {
  /// Nanoseconds since the cell started, on the controller's clock.
  public var timeNanoseconds: UInt64
  public var host: String
  /// `phase-edge`, `mode-apply`, `mode-verify`, `mode-restore`, `evacuated`,
  /// `governor`, `kernel-warning`, `host-failed`, `interrupted`.
  public var kind: String
  /// For `phase-edge`: `busy` or `idle`. For mode events: the mode id.
  public var detail: String
  /// Duration of the action in milliseconds (apply, restore, evacuation), when it has one.
  public var milliseconds: Double?

  public init(
    timeNanoseconds: UInt64, host: String, kind: String, detail: String,
    milliseconds: Double? = nil
  ) {
    self.timeNanoseconds = timeNanoseconds
    self.host = host
    self.kind = kind
    self.detail = detail
    self.milliseconds = milliseconds
  }
}

/// Published numbers an experiment means to reproduce (`expect:` in the file).
public struct ExpectRecord: Codable, Sendable, Equatable {
  /// The table's name, e.g. `cover-letter-v3`.
  public var table: String
  /// Allowed relative difference, 0.25 for `25%`.
  public var tolerance: Double
  /// The phase the published numbers describe (`busy` for the cover letter).
  public var phase: Phase
  /// Published wakeup latency in microseconds by mode id, then percentile key (`"99.0"`).
  public var wakeupMicroseconds: [String: [String: Double]]

  public init(
    table: String, tolerance: Double, phase: Phase,
    wakeupMicroseconds: [String: [String: Double]]
  ) {
    self.table = table
    self.tolerance = tolerance
    self.phase = phase
    self.wakeupMicroseconds = wakeupMicroseconds
  }
}
