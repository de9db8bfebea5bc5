import ArgumentParser
import Controller
import Foundation
import LinuxHost
import Results

extension PVBench {
  struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "status",
      abstract: "Show how a submitted plan is doing: each shard's cells and Slurm jobs.",
      discussion: """
        RUN is the folder 'pvbench submit' printed, or its id (the folder's name) under \
        --results. Reads each shard's run folder and asks squeue (and sacct, when the \
        cluster keeps accounting) for the jobs' states; without accounting, ended jobs \
        are shown from their folders alone.
        """
    )

    @Argument(help: "The submission folder, or its id.")
    var run: String

    @Option(help: "The folder that holds results/<experiment>/<id>.")
    var results = "results"

    func run() async throws {
      let folder = try locate()
      let submission: SlurmSubmission
      do {
        submission = try JSONDecoder().decode(
          SlurmSubmission.self,
          from: Data(contentsOf: folder.appendingPathComponent(SlurmSubmission.fileName)))
      } catch {
        throw CommandFailure(
          .invalidInput,
          "pvbench status: cannot read \(folder.path)/\(SlurmSubmission.fileName): \(error)")
      }
      let jobIDs =
        Array(Set(submission.shards.compactMap(\.jobID))).sorted()
        + (submission.mergeJobID.map { [$0] } ?? [])
      let (states, notes) = SlurmJobs.states(of: jobIDs)
      print(
        "\(submission.experiment): \(submission.shardCount) shards on "
          + "\(submission.usedTestbeds.joined(separator: ", ")) (\(folder.path))")
      var rows: [[String]] = []
      for shard in submission.shards {
        let cells =
          Self.completeCells(in: shard.folder).map { "\($0.complete)/\($0.planned) complete" }
          ?? "not started"
        let state =
          shard.taskID.flatMap { states[$0] } ?? (shard.jobID == nil ? "unsubmitted" : "ended")
        rows.append([
          "\(shard.index)/\(submission.shardCount)", shard.testbed, shard.taskID ?? "-", state,
          cells,
        ])
      }
      let merged =
        Self.completeCells(in: folder.path).map { "\($0.complete)/\($0.planned) merged" }
        ?? "not merged yet"
      let mergeState =
        submission.mergeJobID.flatMap { states[$0] }
        ?? (submission.mergeJobID == nil ? "unsubmitted" : "ended")
      rows.append(["merge", "", submission.mergeJobID ?? "-", mergeState, merged])
      let header = ["shard", "testbed", "job", "state", "cells"]
      let widths = header.indices.map { column in
        ([header] + rows).map { $0[column].count }.max() ?? 0
      }
      for row in [header] + rows {
        let line = row.enumerated().map { index, text in
          text.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
        print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
      }
      for note in notes { printToStandardError("pvbench status: \(note)") }
    }

    /// The complete cells of the run stored in `folder` against its planned ones; nil when
    /// the folder holds no run yet.
    static func completeCells(in folder: String) -> (complete: Int, planned: Int)? {
      guard let store = try? ResultsStore.open(folder), let manifest = try? store.readManifest()
      else { return nil }
      let complete = manifest.plannedCells.filter {
        store.summary(ofCell: $0)?.status == .complete
      }.count
      return (complete, manifest.plannedCells.count)
    }

    /// The submission folder: `run` itself, or `results/*/run`.
    func locate() throws -> URL {
      let direct = URL(fileURLWithPath: run)
      if FileManager.default.fileExists(
        atPath: direct.appendingPathComponent(SlurmSubmission.fileName).path)
      {
        return direct
      }
      let root = URL(fileURLWithPath: results)
      for experiment in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
        let candidate = root.appendingPathComponent(experiment).appendingPathComponent(run)
        if FileManager.default.fileExists(
          atPath: candidate.appendingPathComponent(SlurmSubmission.fileName).path)
        {
          return candidate
        }
      }
      throw CommandFailure(
        .invalidInput,
        "pvbench status: '\(run)' is neither a folder 'pvbench submit' prepared nor the id of "
          + "one under \(results)/")
    }
  }
}
