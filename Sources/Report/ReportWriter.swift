import Foundation
import Results

/// What `ReportWriter.write` produced.
public struct ReportOutput: Sendable {
  /// The folder written.
  public var folder: URL
  /// Figure names whose `.gp` and `.dat` were written.
  public var plots: [String]
  /// Whether gnuplot drew them (PNG and SVG exist).
  public var rendered: Bool
  /// A one-line warning for the user, e.g. gnuplot missing.
  public var warning: String?
  /// gnuplot ran and failed; everything else was still written.
  public var gnuplotError: ReportError?
  /// Figures or series left out for want of data, one sentence each.
  public var skippedPlots: [String] = []
}

/// Writes a run's report folder: plots (`.gp`, `.dat`, `.png`, `.svg`), `report.txt`,
/// `report.md`, `report.csv`, `report.json` and the self-contained `report.html`.
public struct ReportWriter: Sendable {
  public var gnuplot: Gnuplot
  public var plots: Bool

  /// - Parameters:
  ///   - gnuplot: the gnuplot to draw with; pass `Gnuplot(path:)` to choose one.
  ///   - plots: false for `--no-plots` (tables and HTML only).
  public init(gnuplot: Gnuplot = Gnuplot(), plots: Bool = true) {
    self.gnuplot = gnuplot
    self.plots = plots
  }

  /// Writes the report of `analysis` into `folder`, creating it.
  ///
  /// - Throws: `ReportError.cannotWrite` when the folder or a file cannot be written.
  ///   A failing gnuplot is not thrown: the tables and HTML are still written and
  ///   `gnuplotError` holds it. A missing gnuplot is not an error: the `.gp` and
  ///   `.dat` files are written and `warning` says so.
  public func write(_ analysis: RunAnalysis, store: RunStore?, to folder: URL) throws
    -> ReportOutput
  {
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw ReportError.cannotWrite(path: folder.path, reason: error.localizedDescription)
    }
    let renderer = ReportRenderer(analysis)
    var figures: [Plot] = []
    var rendered = false
    var warning: String?
    var gnuplotError: ReportError?
    var skipped: [String] = []
    if plots {
      let set = PlotSet.figures(for: analysis, store: store)
      figures = set.plots
      skipped = set.skipped
      let terminal = gnuplot.executable == nil ? "pngcairo" : gnuplot.pngTerminal()
      var whole = ""
      for plot in figures {
        let script = plot.script(pngTerminal: terminal)
        try save(script, folder.appendingPathComponent("\(plot.name).gp"))
        try save(plot.data, folder.appendingPathComponent("\(plot.name).dat"))
        whole += "reset session\n" + script
      }
      if gnuplot.executable == nil {
        warning =
          "pvbench report: gnuplot not found; wrote the .gp and .dat files to "
          + "\(folder.path) (install gnuplot-nox and run 'gnuplot NAME.gp' there to draw them)."
      } else if !figures.isEmpty {
        do {
          try gnuplot.render(script: whole, in: folder)
          rendered = true
        } catch let error as ReportError {
          gnuplotError = error
        }
      }
    }
    try save(renderer.text(), folder.appendingPathComponent("report.txt"))
    try save(renderer.markdown(), folder.appendingPathComponent("report.md"))
    try save(renderer.csv(), folder.appendingPathComponent("report.csv"))
    try save(try renderer.json(), folder.appendingPathComponent("report.json"))
    let svgs = figures.map { plot -> (Plot, String?) in
      let svg =
        rendered
        ? try? String(
          contentsOf: folder.appendingPathComponent("\(plot.name).svg"), encoding: .utf8) : nil
      return (plot, svg)
    }
    try save(
      HTMLReport(renderer: renderer, figures: svgs, skipped: skipped).html(),
      folder.appendingPathComponent("report.html"))
    return ReportOutput(
      folder: folder, plots: figures.map(\.name), rendered: rendered, warning: warning,
      gnuplotError: gnuplotError, skippedPlots: skipped)
  }

  func save(_ text: String, _ url: URL) throws {
    do {
      try Data(text.utf8).write(to: url, options: .atomic)
    } catch {
      throw ReportError.cannotWrite(path: url.path, reason: error.localizedDescription)
    }
  }
}
