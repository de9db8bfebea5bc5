import Foundation
import Results
import Testing
import Vocabulary

@testable import Report

#if canImport(FoundationXML)
  import FoundationXML
#endif

@Suite struct PlotTests {
  static let gnuplotPath = "/usr/bin/gnuplot"

  func writeReport(
    gnuplot: Gnuplot, sweep: Bool = false
  ) throws -> (RunAnalysis, URL, ReportOutput) {
    var cells = SyntheticStore.coverLetterCells(repetitions: 2)
    var manifest = SyntheticStore.manifest(cells: cells, repetitions: 2)
    if sweep {
      cells = cells.map { cell in
        var copy = cell
        copy.point = ["noise.stress.busy": "10s"]
        return copy
      }
      for mode in SyntheticStore.modes {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-5s", modeID: mode.id, point: ["noise.stress.busy": "5s"],
            repetition: 1, busy: SyntheticStore.ramp(3)))
      }
      manifest = SyntheticStore.manifest(
        cells: cells, sweepKeys: ["noise.stress.busy"], repetitions: 2)
    }
    let run = try SyntheticStore.write(cells, manifest: manifest)
    let store = try RunStore.load(from: run)
    let analysis = RunAnalysis.analyze(store, options: AnalysisOptions(resamples: 200))
    let output = try ReportWriter(gnuplot: gnuplot).write(
      analysis, store: store, to: run.appendingPathComponent("report"))
    return (analysis, run, output)
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: gnuplotPath)))
  func realGnuplotDrawsValidPNGAndSVG() throws {
    let (_, run, output) = try writeReport(gnuplot: Gnuplot(path: Self.gnuplotPath))
    defer { SyntheticStore.remove(run) }
    #expect(output.rendered)
    #expect(output.warning == nil)
    #expect(output.plots == ["percentiles", "nines", "timeline"])
    for name in output.plots {
      let png = try Data(contentsOf: output.folder.appendingPathComponent("\(name).png"))
      #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(name)")
      let svg = try Data(contentsOf: output.folder.appendingPathComponent("\(name).svg"))
      #expect(String(decoding: svg, as: UTF8.self).contains("<svg"))
      #expect(XMLParser(data: svg).parse(), "\(name).svg is not well-formed XML")
      for suffix in ["gp", "dat"] {
        #expect(
          FileManager.default.fileExists(
            atPath: output.folder.appendingPathComponent("\(name).\(suffix)").path))
      }
    }
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: gnuplotPath)))
  func sweepPlotIsDrawnWhenSwept() throws {
    let (analysis, run, output) = try writeReport(
      gnuplot: Gnuplot(path: Self.gnuplotPath), sweep: true)
    defer { SyntheticStore.remove(run) }
    #expect(output.plots.contains("sweep"))
    #expect(output.plots.contains("percentiles-2"))
    let data = try String(
      contentsOf: output.folder.appendingPathComponent("sweep.dat"), encoding: .utf8)
    let p99 = analysis.group("paravirt", ["noise.stress.busy": "5s"])!.wakeup[2]!.value
    #expect(data.contains(dataNumber(p99)))
    #expect(
      FileManager.default.fileExists(atPath: output.folder.appendingPathComponent("sweep.png").path)
    )
  }

  @Test func dataFilesHoldTheTableNumbers() throws {
    let (analysis, run, output) = try writeReport(gnuplot: Gnuplot(path: "/nonexistent/gnuplot"))
    defer { SyntheticStore.remove(run) }
    let data = try String(
      contentsOf: output.folder.appendingPathComponent("percentiles.dat"), encoding: .utf8)
    let row = try #require(data.split(separator: "\n").first { $0.hasPrefix("\"99.0th\"") })
    let fields = row.split(separator: " ").dropFirst().compactMap { Double($0) }
    let expected = analysis.groups.flatMap {
      [$0.wakeup[2]!.value, $0.wakeup[2]!.low, $0.wakeup[2]!.high]
    }
    #expect(fields.count == expected.count)
    for (field, value) in zip(fields, expected) {
      #expect(abs(field - value) <= value * 1e-5)
    }
    // The table prints the same medians, rounded.
    let table = ReportRenderer(analysis).tables()[0].text()
    #expect(table.contains("99.0th              99          198           396"))
    let nines = try String(
      contentsOf: output.folder.appendingPathComponent("nines.dat"), encoding: .utf8)
    #expect(nines.contains("\n2 99 "))
  }

  /// Writes the report with a gnuplot that cannot draw, then removes the store.
  /// - Returns: the writer's output and the names of the files it wrote.
  func reportWithoutPlots(_ gnuplot: Gnuplot) throws -> (output: ReportOutput, files: [String]) {
    let (_, run, output) = try writeReport(gnuplot: gnuplot)
    defer { SyntheticStore.remove(run) }
    return (output, try FileManager.default.contentsOfDirectory(atPath: output.folder.path))
  }

  @Test func failingGnuplotIsReportedAndTablesAreStillWritten() throws {
    let (output, files) = try reportWithoutPlots(Gnuplot(path: "/bin/false"))
    #expect(!output.rendered)
    let error = try #require(output.gnuplotError)
    #expect(error.description.hasPrefix("gnuplot '/bin/false' exited with status 1 (no message)."))
    #expect(files.contains("report.txt") && files.contains("report.html"))
    #expect(files.contains("percentiles.gp"))
  }

  @Test func missingGnuplotWarnsAndStillWritesScriptsAndTables() throws {
    let (output, files) = try reportWithoutPlots(Gnuplot(path: "/nonexistent/gnuplot"))
    #expect(!output.rendered)
    let warning = try #require(output.warning)
    #expect(warning.hasPrefix("pvbench report: gnuplot not found; wrote the .gp and .dat files"))
    #expect(!warning.contains("\n"))
    #expect(files.contains("percentiles.gp") && files.contains("timeline.dat"))
    #expect(!files.contains { $0.hasSuffix(".png") || $0.hasSuffix(".svg") })
    #expect(files.contains("report.html") && files.contains("report.txt"))
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: gnuplotPath)))
  func htmlIsSelfContained() throws {
    let (_, run, output) = try writeReport(gnuplot: Gnuplot(path: Self.gnuplotPath))
    defer { SyntheticStore.remove(run) }
    let html = try String(
      contentsOf: output.folder.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(html.hasPrefix("<!DOCTYPE html>"))
    #expect(html.components(separatedBy: "<svg").count - 1 == output.plots.count)
    #expect(!html.contains("<?xml"))
    for external in ["<link", "<img", "<script", "src=\"http", "href=\"http"] {
      #expect(!html.contains(external), "\(external)")
    }
    #expect(html.contains("<caption>Wakeup latency (usec), busy phase, median of 2 repetitions"))
  }

  @Test func timelineShadesBusyPhasesAndMarksModeChanges() throws {
    let (analysis, run, output) = try writeReport(gnuplot: Gnuplot(path: "/nonexistent/gnuplot"))
    defer { SyntheticStore.remove(run) }
    #expect(analysis.timelineCellID == "hotplug-r1")
    let script = try String(
      contentsOf: output.folder.appendingPathComponent("timeline.gp"), encoding: .utf8)
    // Six busy intervals alternate with idle ones: six shaded rectangles.
    #expect(script.components(separatedBy: " rect from ").count - 1 == 6)
    #expect(script.contains("set arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2"))
    #expect(script.contains("axes x1y2"))
    #expect(script.contains("set ylabel 'p99 wakeup latency per interval (usec, log scale)'"))
    // Every series that reads timeline.dat names its block: the file may hold preferred-set
    // blocks after the intervals, which an unindexed series would draw as latency.
    let reads = script.components(separatedBy: "using 1:").count - 1
    let indexed = script.components(separatedBy: " index ").count - 1
    #expect(reads >= 1 && indexed == reads, "\(reads) series read the data, \(indexed) indexed")
  }
}
