import AgentProtocol
import Experiments
import Foundation
import Results

extension RunManifest {
  /// The manifest a new run of `plan` starts with: the experiment, its modes, schedule and
  /// report settings, and the machine it runs on; hosts are added as they connect.
  ///
  /// - Parameters:
  ///   - plan: The plan as it runs (on its testbed, if any).
  ///   - runID: The run folder's name.
  ///   - commandLine: The command line that started the run.
  package init(newRunOf plan: ExperimentPlan, runID: String, commandLine: [String]) {
    let experiment = plan.experiment
    var schedule = ""
    if let noise = experiment.noise {
      schedule =
        "\(noise.hosts.joined(separator: ", ")) busy \(noise.stress.busy) / "
        + "idle \(noise.stress.idle), "
        + "trigger \(experiment.trigger.rawValue), "
    }
    schedule +=
      "schbench runtime \(experiment.measure.schbench.runtime), "
      + "\(experiment.repetitions) repetition\(experiment.repetitions == 1 ? "" : "s")"
    let expect = experiment.expect.map {
      ExpectRecord(
        table: $0.table, tolerance: $0.tolerance.fraction,
        phase: experiment.report.phase,
        wakeupMicroseconds: $0.wakeupMicroseconds)
    }
    self.init(
      pvbenchVersion: PVBenchVersion.current, experimentName: experiment.name,
      runID: runID, commandLine: commandLine,
      startedAt: Timestamps.iso(Date()), hosts: [],
      modes: experiment.modes.map {
        ModeRecord(
          id: $0.id, kind: $0.kind, label: $0.label,
          hosts: $0.hosts == nil ? nil : experiment.foldHosts(of: $0),
          moduleParameters: $0.kind == .preferred
            ? (try? $0.stealGovernorParameters())?.moduleArguments : nil)
      },
      plannedCells: plan.cells.map(\.id), scheduleDescription: schedule,
      sweepKeys: experiment.sweep.map(\.keyPath), repetitions: experiment.repetitions,
      reportPercentiles: experiment.report.percentiles, expect: expect,
      reportPhase: experiment.report.phase,
      workload: RunController.workloadRecord(experiment),
      environment: EnvironmentRecord(controllerOf: experiment))
  }
}
