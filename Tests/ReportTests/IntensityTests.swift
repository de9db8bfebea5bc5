import Foundation
import Results
import Testing
import Vocabulary

@testable import Report

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A sweep of `-R` where folding helps at low rates and hurts at high ones.
@Suite struct IntensityTests {
  static let rates = ["50", "100", "200", "800"]

  /// Busy samples 1…100 µs × (10·f + repetition): p99 ≈ 99·(10·f + r). Out of Box has
  /// f = 4 everywhere; cpu_hotplug 1, 4, 2, 8 at 50, 100, 200, 800 requests per second.
  func store() throws -> URL {
    let modes = Array(SyntheticStore.modes.prefix(2))
    var cells: [SyntheticStore.Cell] = []
    for (point, rate) in Self.rates.enumerated() {
      for mode in modes {
        let factor = UInt64(mode.kind == .outOfBox ? 4 : [1, 4, 2, 8][point])
        for repetition in 1...3 {
          var cell = SyntheticStore.Cell(
            id: "\(mode.id)-\(rate)-r\(repetition)", modeID: mode.id,
            point: [IntensityKey.rps.rawValue: rate], repetition: repetition,
            busy: { _ in (1...100).map { UInt64($0) * (10 * factor + UInt64(repetition)) } })
          cell.measureBusy = mode.kind == .outOfBox ? 60 : 90
          cells.append(cell)
        }
      }
    }
    let manifest = SyntheticStore.manifest(
      cells: cells, sweepKeys: [IntensityKey.rps.rawValue], repetitions: 3, modes: modes)
    return try SyntheticStore.write(cells, manifest: manifest)
  }

  func analysis(_ run: URL) throws -> RunAnalysis {
    RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 50))
  }

  @Test func theIntensityAxisIsFoundAndOrderedByValue() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let sweep = try #require(IntensitySweep(try analysis(run)))
    #expect(sweep.key == .rps)
    #expect(sweep.slices.count == 1)
    #expect(sweep.slices[0].points.map(\.intensity) == [50, 100, 200, 800])
  }

  @Test func aSweepOfTheScheduleIsNoIntensityAxis() throws {
    var cells = SyntheticStore.coverLetterCells(repetitions: 1)
    for index in cells.indices { cells[index].point = ["noise.stress.busy": "10s"] }
    let run = try SyntheticStore.write(
      cells,
      manifest: SyntheticStore.manifest(
        cells: cells, sweepKeys: ["noise.stress.busy"], repetitions: 1))
    defer { SyntheticStore.remove(run) }
    #expect(IntensitySweep(try analysis(run)) == nil)
  }

  /// The p99 crossing lies between 200 and 800, where the straight line between the two
  /// differences (hotplug − Out of Box) is zero: about 400 with these samples.
  @Test func theCrossoverIsWhereFoldingStopsBeatingOutOfBox() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let analysis = try analysis(run)
    let sweep = try #require(IntensitySweep(analysis))
    let crossings = IntensitySweep.crossovers(analysis, sweep.slices[0], percentileIndex: 2)
    #expect(crossings.count == 1)
    let crossing = try #require(crossings.first)
    #expect(crossing.modeID == "hotplug")
    #expect(crossing.stopsHelping)
    #expect(crossing.lower == 200 && crossing.upper == 800)
    func p99(_ mode: String, _ rate: String) -> Double {
      analysis.group(mode, [IntensityKey.rps.rawValue: rate])!.wakeup[2]!.value
    }
    // Where the drawn segments cross: both axes are log scales (50…800 spans 16 times).
    let d200 = log(p99("hotplug", "200")) - log(p99("out-of-box", "200"))
    let d800 = log(p99("hotplug", "800")) - log(p99("out-of-box", "800"))
    let t = -d200 / (d800 - d200)
    #expect(abs(crossing.intensity - exp(log(200) + (log(800) - log(200)) * t)) < 1e-6)
    #expect(abs(crossing.intensity - 397) < 5)
    let text = ReportRenderer(analysis).text()
    #expect(
      text.contains(
        "Crossover (p99): cpu_hotplug stops beating Out of Box between rps 200\n"
          + "  and 800 (about \(Format.rate(crossing.intensity)), where the figure's straight "
          + "segments cross)."))
  }

  /// One sentence per point: the winner, by how much, and whether the intervals separate.
  @Test func eachPointHasAOneSentenceVerdict() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let analysis = try analysis(run)
    let sentences = ReportRenderer(analysis).verdictSentences()
    #expect(sentences.map(\.point) == Self.rates)
    func p99(_ mode: String, _ rate: String) -> Estimate {
      analysis.group(mode, [IntensityKey.rps.rawValue: rate])!.wakeup[2]!
    }
    let hotplug50 = p99("hotplug", "50")
    let box50 = p99("out-of-box", "50")
    let below = Format.wholePercent((box50.value - hotplug50.value) / box50.value * 100)
    #expect(
      sentences[0].sentence
        == "cpu_hotplug won the p99 at \(Format.micros(hotplug50.value)) us, \(below) below "
        + "Out of Box (\(Format.micros(box50.value)) us); their intervals separate "
        + "(\(Format.range(hotplug50)) against \(Format.range(box50)), 75 % coverage).")
    // Same samples at 100: a tie, and the intervals overlap.
    #expect(sentences[1].sentence.hasPrefix("Out of Box and cpu_hotplug tie at the p99, "))
    #expect(sentences[1].sentence.contains("their intervals overlap"))
    #expect(sentences[1].sentence.hasSuffix("the run cannot tell them apart."))
    #expect(sentences[3].sentence.hasPrefix("Out of Box won the p99 at"))
    #expect(sentences[3].sentence.contains("below cpu_hotplug"))
    let table = try #require(
      ReportRenderer(analysis).tables().first { $0.title.hasPrefix("Which mode won") })
    #expect(table.title == "Which mode won, p99 wakeup latency, busy phase")
    for line in table.text().split(separator: "\n") { #expect(line.count <= 72) }
  }

  /// A point where a mode has no sample is named, not silently left out of its line.
  @Test func anIntensityWithoutSamplesIsNamed() throws {
    let modes = Array(SyntheticStore.modes.prefix(2))
    var cells: [SyntheticStore.Cell] = []
    for rate in ["10", "200"] {
      for mode in modes {
        var cell = SyntheticStore.Cell(
          id: "\(mode.id)-\(rate)", modeID: mode.id, point: [IntensityKey.rps.rawValue: rate],
          repetition: 1, busy: SyntheticStore.ramp(mode.kind == .outOfBox ? 2 : 1))
        if rate == "200" && mode.kind != .outOfBox { cell.busy = { _ in [] } }
        cells.append(cell)
      }
    }
    let run = try SyntheticStore.write(
      cells,
      manifest: SyntheticStore.manifest(
        cells: cells, sweepKeys: [IntensityKey.rps.rawValue], repetitions: 1, modes: modes))
    defer { SyntheticStore.remove(run) }
    let figures = PlotSet.intensity(try analysis(run))
    #expect(figures.plots.count == 4)
    #expect(
      figures.skipped == [
        "intensity figures have no line for cpu_hotplug at 200: no wakeup sample in the busy "
          + "phase."
      ])
  }

  @Test(arguments: [(0.9998, ">99%"), (0.004, "<1%"), (0.71, "71%"), (0.99, "99%")])
  func aDifferenceIsNeverRoundedAway(fraction: Double, text: String) {
    #expect(ReportRenderer.below(fraction) == text)
  }

  /// Real gnuplot draws one figure per percentile, PNG and SVG, with `.gp` and `.dat`
  /// beside them; the p99 figure marks the crossover, every figure has the CPU busy %.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: PlotTests.gnuplotPath)))
  func realGnuplotDrawsTheIntensityFigures() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let store = try RunStore.load(from: run)
    let analysis = RunAnalysis.analyze(store, options: AnalysisOptions(resamples: 50))
    let output = try ReportWriter(gnuplot: Gnuplot(path: PlotTests.gnuplotPath)).write(
      analysis, store: store, to: run.appendingPathComponent("report"))
    #expect(output.rendered, "\(String(describing: output.gnuplotError))")
    let names = ["intensity-p50", "intensity-p90", "intensity-p99", "intensity-p99.9"]
    #expect(names.allSatisfy(output.plots.contains))
    for name in names {
      let png = try Data(contentsOf: output.folder.appendingPathComponent("\(name).png"))
      #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "\(name)")
      let svg = try Data(contentsOf: output.folder.appendingPathComponent("\(name).svg"))
      #expect(XMLParser(data: svg).parse(), "\(name).svg is not well-formed XML")
      let script = try String(
        contentsOf: output.folder.appendingPathComponent("\(name).gp"), encoding: .utf8)
      #expect(script.contains("axes x1y2"))
      #expect(script.contains("with filledcurves"))
    }
    let p99 = try String(
      contentsOf: output.folder.appendingPathComponent("intensity-p99.gp"), encoding: .utf8)
    #expect(p99.contains("set arrow 1 from 39"))
    #expect(p99.contains("'cpu_hotplug stops beating Out of Box'"))
    let data = try String(
      contentsOf: output.folder.appendingPathComponent("intensity-p99.dat"), encoding: .utf8)
    let rows = data.split(separator: "\n").filter { !$0.hasPrefix("#") }
    #expect(rows.map { $0.split(separator: " ")[0] } == ["50", "100", "200", "800"])
    // x, then value lo hi per mode, then CPU busy % per mode.
    #expect(rows.allSatisfy { $0.split(separator: " ").suffix(2) == ["60", "90"] })
    let html = try String(
      contentsOf: output.folder.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(html.contains("Wakeup p99 against requests per second (-R)"))
  }
}
