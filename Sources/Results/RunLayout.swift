import Foundation

/// Where each file of a run folder `results/<experiment>/<run-id>/` lives
/// (docs/results-format.md).
///
/// The names are spelled here and nowhere else: the controller writes, and the report,
/// `watch`, `merge` and the Slurm scripts find, a run's files through this type and
/// `CellFiles`.
package struct RunLayout: Sendable, Equatable {
  /// `RunManifest`, rewritten atomically at start, after connecting and at end.
  package static let manifestName = "manifest.json"
  /// The experiment file as given.
  package static let experimentFileName = "experiment.yaml"
  /// The experiment as pvbench resolved it (defaults filled in).
  package static let resolvedExperimentName = "experiment.json"
  /// One folder per cell, named by the cell's id.
  package static let cellsFolderName = "cells"
  /// Earlier attempts of cells that `--resume` ran again, as `<cell-id>-<n>`.
  package static let attemptsFolderName = "attempts"
  /// Where `pvbench report` writes by default.
  package static let reportFolderName = "report"
  /// A merged run's record of each shard it joined, as `<n>/`.
  package static let mergedFromFolderName = "merged-from"
  /// The file `pvbench submit` leaves in the folder it prepares, which the merged run
  /// later shares; Controller's `SlurmSubmission` writes and reads it.
  package static let submissionName = "submission.json"
  /// The end of a qemu guest's console log, `<host>.console.log`.
  ///
  /// LocalVMs, which writes the logs, sits below Results and cannot use this name: it
  /// spells the same suffix in `LocalGuests.shutdown(grace:consoleFolder:)`.
  package static let consoleLogSuffix = ".console.log"

  /// The run folder.
  package var directory: URL

  package init(_ directory: URL) {
    self.directory = directory
  }

  package var manifest: URL { directory.appendingPathComponent(Self.manifestName) }
  package var experimentFile: URL { directory.appendingPathComponent(Self.experimentFileName) }
  package var resolvedExperiment: URL {
    directory.appendingPathComponent(Self.resolvedExperimentName)
  }
  package var cells: URL { directory.appendingPathComponent(Self.cellsFolderName) }
  package var attempts: URL { directory.appendingPathComponent(Self.attemptsFolderName) }
  package var report: URL { directory.appendingPathComponent(Self.reportFolderName) }

  /// The files of the cell `id`.
  package func cell(_ id: String) -> CellFiles {
    CellFiles(cells.appendingPathComponent(id))
  }

  /// The folder of the `index`-th earlier attempt of cell `id` (1 for the first).
  package func attempt(of id: String, _ index: Int) -> URL {
    attempts.appendingPathComponent("\(id)-\(index)")
  }

  /// Where a merged run keeps the manifest and console logs of the `number`-th run it
  /// joined (1-based).
  package func mergedFrom(_ number: Int) -> URL {
    directory.appendingPathComponent(Self.mergedFromFolderName)
      .appendingPathComponent("\(number)")
  }

  /// Where the guests' consoles of boot `boot` are kept when a sweep boots them again.
  package func bootFolder(_ boot: Int) -> URL {
    directory.appendingPathComponent("boot-\(boot)")
  }

  /// Whether a file in the run folder is a guest's console log.
  package static func isConsoleLog(_ name: String) -> Bool {
    name.hasSuffix(consoleLogSuffix)
  }

  /// Whether the folder holds a run (it has a manifest).
  package var holdsRun: Bool {
    FileManager.default.fileExists(atPath: manifest.path)
  }

  /// The ids of the cell folders present, in no particular order (hidden names left out).
  package func cellIDs() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: cells.path)) ?? []).filter {
      !$0.hasPrefix(".")
    }
  }

  /// The cell whose intervals file changed last, with the time of that change: the cell
  /// running, or the last to end. Nil while no cell has an intervals file.
  package func lastWrittenCell() -> (files: CellFiles, modified: Date)? {
    let dated: [(CellFiles, Date)] = cellIDs().compactMap { id in
      let files = cell(id)
      guard let date = files.intervalsModified else { return nil }
      return (files, date)
    }
    return dated.max { $0.1 < $1.1 }.map { (files: $0.0, modified: $0.1) }
  }
}

/// The files of one cell folder `cells/<cell-id>/` (docs/results-format.md).
package struct CellFiles: Sendable, Equatable {
  /// `CellSummary`, written last: a folder without it is an unfinished cell.
  package static let summaryName = "cell.json"
  /// One `IntervalRecord` per line.
  package static let intervalsName = "intervals.jsonl"
  /// One `EventRecord` per line.
  package static let eventsName = "events.jsonl"
  /// One `CPUSampleRow` per line after `CPUSampleRow.header`.
  package static let samplesName = "samples.csv"
  /// One `HostSideRow` per line after `HostSideRow.header`.
  package static let hostSideName = "hostside.csv"

  /// The cell folder.
  package var directory: URL

  package init(_ directory: URL) {
    self.directory = directory
  }

  /// The cell's id: its folder's name.
  package var id: String { directory.lastPathComponent }

  package var summary: URL { directory.appendingPathComponent(Self.summaryName) }
  package var intervals: URL { directory.appendingPathComponent(Self.intervalsName) }
  package var events: URL { directory.appendingPathComponent(Self.eventsName) }
  package var samples: URL { directory.appendingPathComponent(Self.samplesName) }
  package var hostSide: URL { directory.appendingPathComponent(Self.hostSideName) }

  /// When the intervals file last changed; nil when the cell has none yet.
  package var intervalsModified: Date? {
    (try? FileManager.default.attributesOfItem(atPath: intervals.path))?[.modificationDate]
      as? Date
  }

  /// The rows of the cell's `/proc/stat` samples; nil when the cell has no such file.
  ///
  /// - Parameter aggregatesOnly: only each host's `all` rows. On an LPAR the per-CPU rows
  ///   are most of the file, and this skips them before splitting their fields.
  package func readCPUSamples(aggregatesOnly: Bool = false) -> CSVRows<CPUSampleRow>? {
    CSVRows.read(samples, keeping: aggregatesOnly ? { $0.contains(",all,") } : nil)
  }

  /// The rows of the cell's host-side vCPU thread samples; nil when the cell has no such
  /// file.
  package func readHostSide() -> CSVRows<HostSideRow>? {
    CSVRows.read(hostSide)
  }
}
