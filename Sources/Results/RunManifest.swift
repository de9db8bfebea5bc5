// The on-disk records of a results store (docs/results-format.md), one type per file.
// The run engine writes them; the report reads them. Every file is JSON
// (or JSON lines) so that a reviewer can read a run with jq.

import Vocabulary

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
  /// The experiment's `report.phase`: the default of `pvbench report --phase`. Absent in
  /// runs written before it was recorded.
  public var reportPhase: PhaseSelection?
  /// The measure host's workload with its resolved flags; absent in older runs.
  public var workload: WorkloadRecord?
  /// The controller's machine, QEMU and the pvbench commit; absent in older runs.
  public var environment: EnvironmentRecord?
  /// When the sweep changes what local guests boot: each guest's kernel at each boot
  /// configuration, in the order they were first booted; nil otherwise and in older runs.
  public var kernels: [KernelRecord]?
  /// `ExperimentPlan.hash(of:)` of the experiment as resolved; runs of one plan share it,
  /// and `merge` joins only runs that do. Absent in older runs.
  public var experimentHash: String?
  /// Set when the run is one shard of a plan (`run --shard K/N`).
  public var shard: ShardRecord?
  /// Cell id → the testbed it ran on: every cell of a shard run on a testbed, and every
  /// merged cell of a merged run. Absent when no testbed was named.
  public var cellTestbeds: [String: String]?
  /// Set on a run written by `pvbench merge`: the shards it joined.
  public var merged: [MergedShardRecord]?

  public init(
    pvbenchVersion: String, experimentName: String, runID: String, commandLine: [String],
    startedAt: String, endedAt: String? = nil, hosts: [HostRecord], modes: [ModeRecord],
    plannedCells: [String], scheduleDescription: String, sweepKeys: [String] = [],
    repetitions: Int = 1, reportPercentiles: [Double] = [50, 90, 99, 99.9],
    expect: ExpectRecord? = nil, reportPhase: PhaseSelection? = nil,
    workload: WorkloadRecord? = nil, environment: EnvironmentRecord? = nil
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
    self.reportPhase = reportPhase
    self.workload = workload
    self.environment = environment
  }

  /// The phase a report shows when `--phase` is not given: the experiment's `report.phase`
  /// (from `reportPhase`, or from `expect` in older runs), else busy.
  public var defaultReportPhase: PhaseSelection {
    reportPhase ?? expect?.phase ?? .busy
  }
}
