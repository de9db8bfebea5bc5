import ArgumentParser
import Experiments
import Foundation
import LinuxHost
import Report
import Results
import Vocabulary

extension ReportFormat: ExpressibleByArgument {}
extension PhaseSelection: ExpressibleByArgument {}
extension IntervalChoice: ExpressibleByArgument {}

extension PVBench {
  struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "report",
      abstract: "Write percentile tables and gnuplot plots for a run.",
      discussion: """
        The cover-letter table (50.0th..99.9th per mode, in microseconds), statistics \
        across repetitions, expect verdicts, plots and one self-contained HTML file. \
        Prints the table in --format to standard output and writes plots, report.html \
        and the tables in every format into RUN_DIR/report (or --output).
        """
    )

    @Argument(help: "A run folder: results/<experiment>/<run-id>.")
    var runDirectory: String

    @Option(help: "Output format on standard output: text, markdown, csv, json or html.")
    var format: ReportFormat = .text

    @Option(
      help: """
        Which intervals the tables describe: busy, idle or all (default: the experiment's \
        report.phase, else busy).
        """)
    var phase: PhaseSelection?

    @Option(help: "Folder for plots and report.html (default RUN_DIR/report).")
    var output: String?

    @Flag(help: "Write no plots (tables and report.html only).")
    var noPlots = false

    @Option(help: "Seed of the bootstrap, so the same data gives the same report.")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap resamples.")
    var resamples = 1000

    @Option(
      help: """
        Bootstrap for the 95% intervals: auto (over repetitions when a group has two or \
        more, else over intervals), repetitions or intervals.
        """)
    var intervals: IntervalChoice = .auto

    @Option(help: "Cell id for the timeline plot (default: the first valid non-baseline cell).")
    var timelineCell: String?

    @Option(help: "The gnuplot executable (default: gnuplot on PATH).")
    var gnuplot: String?

    @Option(
      help: """
        Add a table broken down by this: 'testbed' (a merged run: each mode's percentiles \
        on each testbed; also written to report/testbeds.txt and .md).
        """)
    var by: ReportBreakdown?

    func validate() throws {
      guard resamples >= 10 && resamples <= 100_000 else {
        throw ValidationError("'--resamples' must be between 10 and 100000, got '\(resamples)'.")
      }
    }

    func run() async throws {
      let folder = URL(fileURLWithPath: runDirectory)
      // Intervals stay on disk: the analysis streams them cell by cell.
      let store = try RunStore.load(from: folder, intervals: false)
      let analysis = RunAnalysis.analyze(
        store,
        options: AnalysisOptions(
          phase: phase ?? store.manifest.defaultReportPhase, seed: seed, resamples: resamples,
          intervalChoice: intervals),
        timelineCell: timelineCell)
      let writer = ReportWriter(
        gnuplot: Gnuplot(path: gnuplot), plots: !noPlots)
      let target =
        output.map { URL(fileURLWithPath: $0) } ?? RunLayout(folder).report
      let written = try writer.write(analysis, store: store, to: target)
      if let warning = written.warning { printToStandardError(warning) }
      for skipped in written.skippedPlots { printToStandardError("pvbench report: \(skipped)") }
      let renderer = ReportRenderer(analysis)
      switch format {
      case .text: print(renderer.text(), terminator: "")
      case .markdown: print(renderer.markdown(), terminator: "")
      case .csv: print(renderer.csv(), terminator: "")
      case .json: print(try renderer.json(), terminator: "")
      case .html:
        print(
          (try? String(contentsOf: target.appendingPathComponent("report.html"), encoding: .utf8))
            ?? "", terminator: "")
      }
      if by == .testbed {
        try printTestbedTable(store: store, target: target)
      }
      if let error = written.gnuplotError {
        throw CommandFailure(.runtimeFailure, "pvbench report: \(error)")
      }
    }
  }
}

/// What `report --by` breaks the results down by.
enum ReportBreakdown: String, CaseIterable, ExpressibleByArgument {
  case testbed
}

extension PVBench.Report {
  /// Prints the per-testbed table after the report (text or Markdown, as --format) and
  /// writes it beside the report.
  func printTestbedTable(store: RunStore, target: URL) throws {
    let table: TextTable?
    do {
      table = try TestbedTable.make(
        store, phase: phase ?? store.manifest.defaultReportPhase)
    } catch {
      // The run folder loaded; a cell's intervals that do not decode fail the report.
      throw CommandFailure(.runtimeFailure, "pvbench report: \(error)")
    }
    guard let table else {
      throw CommandFailure(
        .invalidInput,
        "pvbench report: --by testbed: \(runDirectory) records no testbed for its cells; "
          + "it is not a merge of shards run with --testbed")
    }
    try? table.text().write(
      to: target.appendingPathComponent("testbeds.txt"), atomically: true, encoding: .utf8)
    try? table.markdown().write(
      to: target.appendingPathComponent("testbeds.md"), atomically: true, encoding: .utf8)
    switch format {
    case .markdown: print("\n" + table.markdown(), terminator: "")
    case .text: print("\n" + table.text(), terminator: "")
    default:
      printToStandardError("pvbench report: the testbed table is in \(target.path)/testbeds.txt")
    }
  }
}
