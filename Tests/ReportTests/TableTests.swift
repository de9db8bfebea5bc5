import Foundation
import Results
import Testing

@testable import Report

@Suite struct TableTests {
  func coverLetter() throws -> (RunAnalysis, URL) {
    let run = try SyntheticStore.write(SyntheticStore.coverLetterCells())
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    return (analysis, run)
  }

  @Test func coverLetterTableIsGolden() throws {
    let (analysis, run) = try coverLetter()
    defer { SyntheticStore.remove(run) }
    let table = ReportRenderer(analysis).tables()[0].text()
    // HDR keeps 3 significant digits: 99 µs is the bucket 98.99–99.03, printed 99.
    #expect(
      table == """
        Wakeup latency (usec), busy phase, median of 3 repetitions
        percentile  Out of Box  cpu_hotplug  cpu_paravirt
        50.0th              50          100           200
        90.0th              90          180           360
        99.0th              99          198           396
        99.9th            100?         200?          400?
        samples           1800         1800          1800
        intervals           18           18            18
        gaps                 0            0             0
        ?: a cell holds fewer samples than the percentile needs (the 99.9th
          needs 1000); fewest per cell: Out of Box 600, cpu_hotplug 600,
          cpu_paravirt 600. Not a measurement of that percentile.
        samples, intervals, gaps: in the busy phase, summed over the cells;
          gaps: intervals the snapshot thread slept through, starved (their
          samples are in the late interval).

        """)
  }

  @Test func everyTextLineFitsAnEmail() throws {
    let (analysis, run) = try coverLetter()
    defer { SyntheticStore.remove(run) }
    let text = ReportRenderer(analysis).text()
    for line in text.split(separator: "\n") {
      #expect(line.count <= 72, "too wide: \(line)")
    }
    #expect(text.contains("host lpar1 (measure, qemu): kernel 6.1.0-56-cloud-amd64"))
    #expect(text.contains("command: pvbench run experiments/synthetic.yaml"))
    #expect(text.contains("steal busy"))
    let joined = text.replacingOccurrences(of: "\n  ", with: " ")
    #expect(joined.contains("source: host run-queue wait of the vCPU threads."))
    #expect(text.contains("Mode switch times (ms)"))
  }

  @Test func idlePhaseReadsOnlyIdleIntervals() throws {
    let run = try SyntheticStore.write(SyntheticStore.coverLetterCells())
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(phase: .idle))
    // Idle samples are n/2+1 µs for n = 1…100: p50 = 26, p99.9 = 51.
    let first = analysis.groups[0]
    #expect(Int(first.wakeup[0]!.value.rounded()) == 26)
    #expect(Int(first.wakeup[3]!.value.rounded()) == 51)
  }

  @Test func wideTablesSplitIntoBlocksWithinWidth() {
    let table = TextTable(
      title: "t", header: ["percentile"] + (1...8).map { "mode_number_\($0)" },
      rows: [["50.0th"] + (1...8).map { "\($0)" }])
    let text = table.text(width: 72)
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 72 })
    #expect(text.components(separatedBy: "percentile").count - 1 >= 2)
    #expect(text.contains("mode_number_8"))
  }

  @Test func csvAndMarkdownCarryTheSameNumbers() throws {
    let (analysis, run) = try coverLetter()
    defer { SyntheticStore.remove(run) }
    let renderer = ReportRenderer(analysis)
    let csv = renderer.csv()
    let p99 = analysis.groups[1].wakeup[2]!.value
    #expect(csv.contains("busy,hotplug,cpu_hotplug,wakeup_us,99.0,\(dataNumber(p99))"))
    #expect(
      renderer.markdown().contains("| 99.0th | 99 [99, 99] | 198 [198, 198] | 396 [396, 396] |"))
    let decoded = try JSONDecoder().decode(
      RunAnalysis.self, from: Data(try renderer.json().utf8))
    #expect(decoded.groups.count == 3)
    #expect(decoded.groups[2].wakeup[3]!.value == analysis.groups[2].wakeup[3]!.value)
  }

  @Test func invalidAndUnfinishedCellsAreListedAndNotAveragedIn() throws {
    var cells = SyntheticStore.coverLetterCells()
    cells.append(
      SyntheticStore.Cell(
        id: "hotplug-r4", modeID: "hotplug", repetition: 4, status: .invalid,
        reasons: ["noise host lpar2 reached 40 % busy, below the 90 % gate"],
        busy: { _ in [10_000_000] }))
    cells.append(
      SyntheticStore.Cell(
        id: "hotplug-r5", modeID: "hotplug", repetition: 5, busy: { _ in [10_000_000] },
        writeSummary: false))
    var manifest = SyntheticStore.manifest(cells: cells)
    manifest.plannedCells.append("paravirt-r9")
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    let hotplug = try #require(analysis.group("hotplug", [:]))
    #expect(hotplug.cellIDs == ["hotplug-r1", "hotplug-r2", "hotplug-r3"])
    #expect(hotplug.wakeupSamples == 3 * 6 * 100)
    // Pooled p99.99 would be 10 s if either bad cell were merged in.
    #expect(hotplug.nines.last!.microseconds < 1000)
    #expect(
      analysis.excluded.map(\.status) == ["invalid", "unfinished", "missing"])
    let text = ReportRenderer(analysis).text()
    #expect(
      text.contains(
        """
        Cells not averaged in
        cell         status      reason
        hotplug-r4   invalid     noise host lpar2 reached 40 % busy, below the
                                 90 % gate
        hotplug-r5   unfinished  no cell.json: the cell did not end (interrupted
                                 run?)
        paravirt-r9  missing     planned but never started
        """))
  }

  @Test func sweepGetsOneTablePerPointAndAPivot() throws {
    var cells: [SyntheticStore.Cell] = []
    for (index, busy) in ["5s", "10s"].enumerated() {
      for mode in SyntheticStore.modes {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-\(busy)", modeID: mode.id, point: ["noise.stress.busy": busy],
            repetition: 1, busy: SyntheticStore.ramp(UInt64(index + 1))))
      }
    }
    let manifest = SyntheticStore.manifest(
      cells: cells, sweepKeys: ["noise.stress.busy"], repetitions: 1)
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let text = ReportRenderer(analysis).text()
    #expect(text.contains("noise.stress.busy=5s"))
    #expect(text.contains("noise.stress.busy=10s"))
    #expect(text.contains("Sweep: 99.0th wakeup latency (usec), busy phase"))
    #expect(text.contains("10s           198          198           198"))
    #expect(analysis.groups.allSatisfy { $0.wakeup[0]!.method == .intervals })
  }

  /// A sweep of the guests' kernel command line: the header names each kernel, and one
  /// table puts every kernel × mode side by side.
  @Test func kernelSweepGetsAColumnPerKernelAndMode() throws {
    let key = "hosts.lpar1.qemu.append"
    var cells: [SyntheticStore.Cell] = []
    for (index, append) in ["mitigations=auto", "mitigations=off"].enumerated() {
      for mode in SyntheticStore.modes.prefix(2) {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-\(index)", modeID: mode.id, point: [key: append],
            repetition: 1, busy: SyntheticStore.ramp(UInt64(index + 1))))
      }
    }
    var manifest = SyntheticStore.manifest(
      cells: cells, sweepKeys: [key], repetitions: 1,
      modes: Array(SyntheticStore.modes.prefix(2)))
    manifest.kernels = ["mitigations=auto", "mitigations=off"].map { append in
      KernelRecord(
        host: "lpar1", point: [key: append], kernelRelease: "6.1.0-56-cloud-amd64",
        kernelCmdline: "console=ttyS0 \(append)")
    }
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let renderer = ReportRenderer(analysis)
    #expect(
      renderer.headerLines().filter { $0.hasPrefix("kernel ") } == [
        "kernel K1 (hosts.lpar1.qemu.append=mitigations=auto): lpar1 "
          + "6.1.0-56-cloud-amd64, cmdline 'console=ttyS0 mitigations=auto'",
        "kernel K2 (hosts.lpar1.qemu.append=mitigations=off): lpar1 "
          + "6.1.0-56-cloud-amd64, cmdline 'console=ttyS0 mitigations=off'",
      ])
    let table = try #require(renderer.tables().first)
    #expect(table.title == "Wakeup latency (usec) by kernel and mode, busy phase")
    #expect(
      table.header == [
        "percentile", "K1 Out of Box", "K1 cpu_hotplug", "K2 Out of Box", "K2 cpu_hotplug",
      ])
    #expect(table.rows[0] == ["50.0th", "50", "50", "100", "100"])
    #expect(table.rows.last == ["samples", "600", "600", "600", "600"])
    let requests = renderer.tables()[1]
    #expect(requests.title == "Request latency (usec) and rps by kernel and mode, busy phase")
    #expect(requests.header == table.header)
    #expect(requests.rows.last == ["rps", "1000", "1000", "1000", "1000"])
    #expect(renderer.text().split(separator: "\n").allSatisfy { $0.count <= 72 })
    let markdown = renderer.markdown()
    for title in [table.title, requests.title] {
      #expect(markdown.components(separatedBy: title).count == 2, "\(title) once in Markdown")
    }
  }

  @Test func expectVerdictsCompareWithTolerance() throws {
    let expect = ExpectRecord(
      table: "cover-letter-v3", tolerance: 0.25, phase: .busy,
      wakeupMicroseconds: ["out-of-box": ["99.0": 90, "99.9": 200]])
    let cells = SyntheticStore.coverLetterCells()
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, expect: expect))
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    #expect(analysis.verdicts.map(\.reproduced) == [true, false])
    let text = ReportRenderer(analysis).text()
    #expect(text.contains("Expected numbers: cover-letter-v3, busy phase, tolerance 25.0%"))
    #expect(text.contains("not reproduced"))
  }

  @Test func expectVerdictsUseTheExperimentsPhaseAll() throws {
    // `report.phase: all` used to reach the verdicts as busy.
    let expect = ExpectRecord(
      table: "custom", tolerance: 0.25, phase: .all,
      wakeupMicroseconds: ["out-of-box": ["99.0": 90]])
    let cells = SyntheticStore.coverLetterCells()
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, expect: expect))
    defer { SyntheticStore.remove(run) }
    let store = try RunStore.load(from: run)
    let verdict = try #require(RunAnalysis.analyze(store).verdicts.first)
    let all = try #require(
      RunAnalysis.analyze(store, options: AnalysisOptions(phase: .all)).groups.first {
        $0.key.modeID == "out-of-box"
      })
    let busy = try #require(
      RunAnalysis.analyze(store).groups.first { $0.key.modeID == "out-of-box" })
    // Medians across repetitions do not depend on the bootstrap seed.
    #expect(verdict.ours?.value == all.wakeup[2]!.value)
    #expect(all.wakeup[2]!.value != busy.wakeup[2]!.value)
    #expect(
      ReportRenderer(RunAnalysis.analyze(store)).text().contains(
        "Expected numbers: custom, all phase, tolerance 25.0%"))
  }
}

@Suite struct NoDataTests {
  /// Out of Box with no busy interval (all inside the settle window); the others normal.
  func store(emptyBusy: Bool = true) throws -> URL {
    let cells = SyntheticStore.coverLetterCells(repetitions: 2).map { cell in
      var copy = cell
      if cell.modeID == "out-of-box" {
        copy.settleMilliseconds = 1000
        if emptyBusy { copy.busyPhase = .transition } else { copy.busy = { _ in [] } }
      }
      return copy
    }
    return try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 2))
  }

  @Test func anEmptyPhaseIsADashWithItsReasonNeverAZero() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let outOfBox = try #require(analysis.group("out-of-box", [:]))
    #expect(outOfBox.wakeup.allSatisfy { $0 == nil })
    #expect(outOfBox.request.allSatisfy { $0 == nil })
    #expect(outOfBox.nines.isEmpty)
    #expect(outOfBox.noDataReason == "no busy interval outside the 1 s settle window")
    let tables = ReportRenderer(analysis).tables()
    #expect(
      tables[0].text() == """
        Wakeup latency (usec), busy phase, median of 2 repetitions
        percentile  Out of Box  cpu_hotplug  cpu_paravirt
        50.0th               -          100           200
        90.0th               -          180           360
        99.0th               -          198           396
        99.9th               -         200?          400?
        samples              0         1200          1200
        intervals            0           12            12
        gaps                 0            0             0
        -: no data for Out of Box: no busy interval outside the 1 s settle
          window.
        ?: a cell holds fewer samples than the percentile needs (the 99.9th
          needs 1000); fewest per cell: cpu_hotplug 600, cpu_paravirt 600. Not a
          measurement of that percentile.
        samples, intervals, gaps: in the busy phase, summed over the cells;
          gaps: intervals the snapshot thread slept through, starved (their
          samples are in the late interval).

        """)
    #expect(tables[1].text().contains("99.0th               -      198-198       396-396\n"))
    let csv = ReportRenderer(analysis).csv()
    #expect(csv.contains("busy,out-of-box,Out of Box,wakeup_us,99.0,,,,0,\n"))
  }

  @Test func intervalsWithoutSamplesAreNamedAsSuch() throws {
    let run = try store(emptyBusy: false)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    #expect(
      analysis.group("out-of-box", [:])?.noDataReason
        == "12 busy intervals but no wakeup sample (did the workers ever wake?)")
  }

  @Test func titlesNeverCountZeroRepetitions() throws {
    let cells = SyntheticStore.coverLetterCells(repetitions: 1).map { cell in
      var copy = cell
      copy.busyPhase = .transition
      return copy
    }
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1))
    defer { SyntheticStore.remove(run) }
    let text = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    ).text()
    #expect(!text.contains("0 repetitions"))
    #expect(text.contains("Wakeup latency (usec), busy phase, median across repetitions\n"))
    #expect(
      text.contains(
        """
        -: no data for Out of Box, cpu_hotplug, cpu_paravirt: no busy interval
          outside the 500 ms settle window.
        """))
  }

  @Test func plotsLeaveOutEmptySeriesAndSaySo() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let store = try RunStore.load(from: run)
    let analysis = RunAnalysis.analyze(store, options: AnalysisOptions(resamples: 100))
    let figures = PlotSet.figures(for: analysis, store: store)
    #expect(figures.plots.map(\.name) == ["percentiles", "nines", "timeline"])
    #expect(
      figures.skipped == [
        "percentiles and nines leave out Out of Box: no wakeup sample in the busy phase."
      ])
    let percentiles = try #require(figures.plots.first)
    #expect(!percentiles.body.contains("Out of Box"))
    #expect(!percentiles.data.contains("Out of Box"))
  }

  /// `report.html` lists what the figures leave out, as the command prints it.
  @Test func theHTMLPageSaysWhatItsFiguresLeaveOut() throws {
    let run = try store()
    defer { SyntheticStore.remove(run) }
    let store = try RunStore.load(from: run)
    let analysis = RunAnalysis.analyze(store, options: AnalysisOptions(resamples: 50))
    let output = run.appendingPathComponent("report")
    let written = try ReportWriter(gnuplot: Gnuplot(path: "/nonexistent/gnuplot")).write(
      analysis, store: store, to: output)
    let html = try String(
      contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(
      html.contains(
        "<p>Left out for want of data:</p>\n<ul class=\"skipped\">\n<li>percentiles and "
          + "nines leave out Out of Box: no wakeup sample in the busy phase.</li>\n</ul>"))
    #expect(written.skippedPlots.count == 1)
  }
}

@Suite struct WidthTests {
  @Test func everyLineFitsSeventyTwoColumnsWithLongReasonsIdsAndCommands() throws {
    var cells = SyntheticStore.coverLetterCells(repetitions: 1)
    let reason =
      "noise host lpar2 reached 40 % busy in a busy phase, below the 75 % gate "
      + "(/sys/fs/cgroup/pvbench.slice/noise-with-a-very-long-name/cpu.stat)"
    cells.append(
      SyntheticStore.Cell(
        id: "paravirt-noise.stress.busy=10s-noise.stress.idle=10s-r12", modeID: "paravirt",
        repetition: 12, status: .invalid, reasons: [reason, reason, reason],
        busy: SyntheticStore.ramp(1)))
    var manifest = SyntheticStore.manifest(cells: cells, repetitions: 1)
    manifest.commandLine = [
      "/home/someone/src/pvbench/.build/release/pvbench", "run",
      "/home/someone/experiments/a-very-long-experiment-file-name-that-goes-on-and-on.yaml",
    ]
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let text = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 50))
    ).text()
    for line in text.split(separator: "\n") {
      #expect(line.count <= 72, "too wide (\(line.count)): \(line)")
    }
    // Said once, wrapped under the id and status.
    #expect(text.components(separatedBy: "noise host lpar2 reached").count == 2)
    #expect(
      text.contains(
        """
        paravirt-noise.stress.busy=10s-noise.stress.idle=10s-r12  invalid
            noise host lpar2 reached 40 % busy in a busy phase, below the 75 %
            gate
        """))
  }

  /// A mode label and a swept value longer than a line: every table, the sweep pivot
  /// included, wraps the cell within its row instead of running past 72 columns.
  @Test func longModeLabelsAndSweepValuesStayWithinSeventyTwoColumns() throws {
    let longLabel = "cpu_paravirt with a label that somebody made far too long to fit a column"
    let longValue = "a-sweep-value-that-is-much-longer-than-any-column-of-an-email-can-hold-at-all"
    let modes = [
      SyntheticStore.modes[0], ModeRecord(id: "paravirt", kind: .paravirt, label: longLabel),
    ]
    var cells: [SyntheticStore.Cell] = []
    for (index, mode) in modes.enumerated() {
      for value in ["short", longValue] {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-\(value.prefix(5))-r1", modeID: mode.id,
            point: ["noise.stress.busy": value], repetition: 1,
            busy: SyntheticStore.ramp(UInt64(index + 1))))
      }
    }
    let manifest = SyntheticStore.manifest(
      cells: cells, sweepKeys: ["noise.stress.busy"], repetitions: 1, modes: modes)
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let renderer = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 50)))
    let text = renderer.text()
    for line in text.split(separator: "\n") {
      #expect(line.count <= 72, "too wide (\(line.count)): \(line)")
    }
    // The label is wrapped, not lost: its words are all in the header rows.
    let sweep = try #require(renderer.tables().first { $0.title.hasPrefix("Sweep: 99.0th") })
    let sweepText = sweep.text()
    for piece in [
      "cpu_paravirt with a label that", "somebody made far too long to", "fit a column",
      "\na-sweep-value-that-is-much-longer-th ", "\n  an-any-column-of-an-email-can-hold\n",
    ] {
      #expect(sweepText.contains(piece), "\(piece)")
    }
  }

  /// A single over-wide cell in a hand-made table is wrapped in its row.
  @Test func anOverWideCellIsWrappedInItsRow() {
    let table = TextTable(
      title: "t", header: ["k", "v"],
      rows: [["row", String(repeating: "x", count: 100)], ["next", "1"]])
    let lines = table.text().split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.allSatisfy { $0.count <= 72 })
    #expect(lines.count == 6)
    #expect(lines[2] == "row   " + String(repeating: "x", count: 66))
    #expect(lines[3] == String(repeating: " ", count: 38) + String(repeating: "x", count: 34))
    #expect(lines[4] == "next" + String(repeating: " ", count: 67) + "1")
  }

  @Test func wrapCutsAWordLongerThanALine() {
    #expect(
      wrap(String(repeating: "x", count: 20), width: 8) == ["xxxxxxxx", "  xxxxxx", "  xxxxxx"])
    // A word that fits a line of its own moves there whole.
    #expect(
      wrap("command: " + String(repeating: "y", count: 10), width: 12) == [
        "command:", "  yyyyyyyyyy",
      ])
    #expect(wrap("a b c", width: 72) == ["a b c"])
  }
}

@Suite struct StarvationTests {
  /// The starved cell: 1 wakeup sample (878 µs) in 11 busy intervals, 28 intervals
  /// recorded where a 40 s runtime gives 40; beside it a normal cell. `adjust` changes the
  /// two cells (how the store records them) before the store is written.
  func starved(_ adjust: (inout [SyntheticStore.Cell]) -> Void) throws -> URL {
    var cells = [
      SyntheticStore.Cell(
        id: "out-of-box-r1", modeID: "out-of-box", repetition: 1,
        busy: { $0 == 0 ? [878] : [] }, intervals: 14),
      SyntheticStore.Cell(
        id: "hotplug-r1", modeID: "hotplug", repetition: 1,
        busy: { _ in (1...200).map { UInt64($0) * 10 } }, intervals: 20),
    ]
    cells[0].idle = { _ in [] }
    adjust(&cells)
    var manifest = SyntheticStore.manifest(
      cells: cells, repetitions: 1, modes: Array(SyntheticStore.modes.prefix(2)))
    manifest.workload = WorkloadRecord(
      schbenchCommandLine: "schbench -m 1 -t 4 -r 40 -i 1", runtimeSeconds: 40,
      intervalSeconds: 1)
    return try SyntheticStore.write(cells, manifest: manifest)
  }

  @Test func requiredSamplesFollowTheTail() {
    #expect(RunAnalysis.requiredSamples(forPercentile: 99.9) == 1000)
    #expect(RunAnalysis.requiredSamples(forPercentile: 99) == 100)
    #expect(RunAnalysis.requiredSamples(forPercentile: 90) == 10)
    #expect(RunAnalysis.requiredSamples(forPercentile: 50) == 2)
    #expect(RunAnalysis.requiredSamples(forPercentile: 99.99) == 10_000)
  }

  @Test func aStarvedCellShowsItsCountsAndFlags() throws {
    let run = try starved {
      $0[0].legacy = true
      $0[1].legacy = true
    }
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let starved = try #require(analysis.group("out-of-box", [:]))
    #expect(starved.cells.map(\.isShort) == [true])
    #expect(starved.wakeup.map { $0?.tooFewSamples } == [true, true, true, true])
    let hotplug = try #require(analysis.group("hotplug", [:]))
    // 4000 samples in 20 busy intervals of 200: enough for every percentile.
    #expect(hotplug.wakeup.map { $0?.tooFewSamples } == [false, false, false, false])
    #expect(
      ReportRenderer(analysis).tables()[0].text() == """
        Wakeup latency (usec), busy phase, 1 repetition
        percentile  Out of Box  cpu_hotplug
        50.0th            878?         1000
        90.0th            878?         1800
        99.0th            878?         1980
        99.9th            878?         2001
        samples              1         4000
        intervals           14           20
        gaps                 -            -
        ?: a cell holds fewer samples than the percentile needs (the 50.0th
          needs 2, the 90.0th needs 10, the 99.0th needs 100, the 99.9th needs
          1000); fewest per cell: Out of Box 1. Not a measurement of that
          percentile.
        Out of Box: out-of-box-r1 has 28 of 40 intervals its runtime gives (the
          interval thread was starved, or intervals were lost).
        samples, intervals, gaps: in the busy phase, summed over the cells;
          gaps: intervals the snapshot thread slept through, starved (their
          samples are in the late interval); -: not recorded by this store.

        """)
  }

  /// The same starved cell as the snapshot clock now records it: 28 intervals, and 12 gaps
  /// where its thread slept through a boundary (6 of them in busy intervals), so the 40
  /// seconds are accounted for; the table shows the gaps beside the counts.
  @Test func aStarvedCellShowsItsGapsBesideItsCounts() throws {
    let run = try starved { $0[0].missed = [0: 2, 4: 2, 8: 2, 1: 3, 5: 3] }
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let starved = try #require(analysis.group("out-of-box", [:]))
    #expect(starved.cells.map(\.isShort) == [false])
    #expect(starved.cells.map(\.hasGaps) == [true])
    #expect(starved.gaps == 6)
    #expect(analysis.group("hotplug", [:])?.gaps == 0)
    let text = ReportRenderer(analysis).tables()[0].text()
    #expect(
      text.hasSuffix(
        """
        samples              1         4000
        intervals           14           20
        gaps                 6            0
        ?: a cell holds fewer samples than the percentile needs (the 50.0th
          needs 2, the 90.0th needs 10, the 99.0th needs 100, the 99.9th needs
          1000); fewest per cell: Out of Box 1. Not a measurement of that
          percentile.
        Out of Box: out-of-box-r1 has 28 intervals and 12 gaps (its runtime
          gives 40): its snapshot thread woke late, starved with the guest.
        samples, intervals, gaps: in the busy phase, summed over the cells;
          gaps: intervals the snapshot thread slept through, starved (their
          samples are in the late interval).

        """), "\(text)")
  }

  @Test func compareNeverStarsAStarvedPercentile() throws {
    // Four repetitions each: enough for the permutation test to reach 5 % (2/70).
    func run(_ id: String, starved: Bool) throws -> URL {
      let cells = (1...4).map { repetition in
        var cell = SyntheticStore.Cell(
          id: "out-of-box-r\(repetition)", modeID: "out-of-box", repetition: repetition,
          busy: starved
            ? { $0 == 0 ? [878] : [] } : { _ in (1...200).map { UInt64($0) * 16 } },
          intervals: starved ? 14 : 20)
        if starved { cell.idle = { _ in [] } }
        return cell
      }
      return try SyntheticStore.write(
        cells,
        manifest: SyntheticStore.manifest(
          runID: id, cells: cells, repetitions: 4, modes: [SyntheticStore.modes[0]]))
    }
    let a = try run("starved", starved: true)
    let b = try run("normal", starved: false)
    defer { [a, b].forEach(SyntheticStore.remove) }
    let analyses = try [a, b].enumerated().map { index, url in
      RunAnalysis.analyze(
        try RunStore.load(from: url),
        options: AnalysisOptions(seed: UInt64(index + 1), resamples: 100))
    }
    let comparison = RunComparison.compare(analyses, threshold: 0.1)
    let p99 = try #require(comparison.rows.first { $0.metric == "99.0th" })
    // HDR's bucket of 878 µs ends at 878.079 µs.
    #expect(Int(p99.cells[0].value!) == 878)
    #expect(p99.cells[1].change! < -2)
    #expect(p99.cells[1].significance == .inconclusive)
    // The same figures with enough samples behind them would be significant: the test
    // of 4 against 4 distinct repetitions reaches 2/70.
    let enough = RunComparison.judge(
      Statistics.medianInterval([878, 878.1, 878.2, 878.3]),
      Statistics.medianInterval([3168, 3169, 3170, 3171]))
    #expect(enough.0 == .significant)
    #expect(comparison.text().contains("99.0th  878?  3168 (-260.82%)~\n"))
  }

}

@Suite struct HeaderTests {
  @Test func theHeaderSaysEnoughToReproduceWithinSeventyTwoColumns() throws {
    let cells = SyntheticStore.coverLetterCells(repetitions: 1)
    var manifest = SyntheticStore.manifest(cells: cells, repetitions: 1)
    manifest.environment = EnvironmentRecord(
      pvbenchCommit: "c1bb510f00aa", controllerKernel: "6.12.48+deb13-amd64",
      controllerCPUModel: "AMD EPYC 7B13 64-Core Processor", accelerator: "TCG",
      qemuVersion: "QEMU emulator version 10.0.3 (Debian 1:10.0.3+ds-1)")
    manifest.workload = WorkloadRecord(
      schbenchCommandLine: "schbench -m 1 -t 4 -r 40 -w 0 -i 1 -s 100 -n 5 -F 256",
      runtimeSeconds: 40, intervalSeconds: 1)
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let text = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 50))
    ).text()
    #expect(
      text.contains(
        """
        pvbench 0.1.0 (commit c1bb510f00aa); started 2026-11-24T12:00:00Z, ended
          2026-11-24T12:30:00Z
        """))
    #expect(
      text.contains(
        """
        hypervisor host: AMD EPYC 7B13 64-Core Processor, kernel
          6.12.48+deb13-amd64; QEMU emulator version 10.0.3 (Debian
          1:10.0.3+ds-1), TCG
        workload: schbench -m 1 -t 4 -r 40 -w 0 -i 1 -s 100 -n 5 -F 256
        """))
    for line in text.split(separator: "\n") { #expect(line.count <= 72, "\(line)") }
  }
}

@Suite struct StreamingTests {
  @Test func aStoreReadWithoutIntervalsGivesTheSameReport() throws {
    var cells = SyntheticStore.coverLetterCells(repetitions: 3)
    cells.append(
      SyntheticStore.Cell(
        id: "paravirt-r9", modeID: "paravirt", point: ["noise.stress.busy": "5s"],
        repetition: 1, busy: SyntheticStore.ramp(3)))
    let run = try SyntheticStore.write(cells)
    defer { SyntheticStore.remove(run) }
    let streamed = try RunStore.load(from: run, intervals: false)
    #expect(!streamed.intervalsLoaded)
    #expect(streamed.cells.allSatisfy { $0.intervals.isEmpty })
    let options = AnalysisOptions(resamples: 100)
    let inMemory = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: options))
    let fromDisk = ReportRenderer(RunAnalysis.analyze(streamed, options: options))
    #expect(fromDisk.text() == inMemory.text())
    #expect(try fromDisk.json() == inMemory.json())
    // The timeline figure reads its one cell from disk.
    #expect(
      PlotSet.figures(for: fromDisk.analysis, store: streamed).plots.contains {
        $0.name == "timeline" && $0.data.split(separator: "\n").count > 10
      })
  }
}

@Suite struct RequestRateTests {
  /// `-R 1000` for 6 busy seconds per cell, 3 cells: 18000 expected; Out of Box did 1000
  /// per second, hotplug 950, paravirt 500 (one busy interval of each paravirt cell is
  /// a late one of 3 s, so its busy phase lasted 8 s: 24000 expected).
  @Test func fixedRateRunsShowRequestsDoneAgainstExpected() throws {
    var cells = SyntheticStore.coverLetterCells()
    for index in cells.indices {
      cells[index].rps = [1000, 950, 500][index / 3]
      if index >= 6 { cells[index].missed = [2: 2] }
    }
    var manifest = SyntheticStore.manifest(cells: cells)
    manifest.workload = WorkloadRecord(
      schbenchCommandLine: "schbench -m 1 -t 4 -r 12 -R 1000", runtimeSeconds: 12,
      intervalSeconds: 1, requestsPerSecond: 1000)
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 50))
    let outOfBox = try #require(analysis.group("out-of-box", [:]))
    #expect(outOfBox.requests.map(\.phase) == ["busy", "idle", "all"])
    #expect(outOfBox.requests[0] == RequestFigure(phase: "busy", expected: 18000, done: 18000))
    let table = try #require(
      ReportRenderer(analysis).tables().first { $0.title.hasPrefix("Requests") })
    #expect(
      table.text() == """
        Requests done of expected at -R 1000
        phase        Out of Box      cpu_hotplug     cpu_paravirt
        busy   18000/18000 100%  17100/18000 95%  12000/24000 50%
        idle   18000/18000 100%  17100/18000 95%   9000/18000 50%
        all    36000/36000 100%  34200/36000 95%  21000/42000 50%
        done/expected: requests completed, against the -R rate times the phase's
          seconds (gaps included), summed over the cells. Requests a starved
          worker never got to are in no latency sample.

        """)
  }

  /// Without `-R` there is nothing to expect, and no table.
  @Test func theClosedLoopHasNoRequestTable() throws {
    let cells = SyntheticStore.coverLetterCells()
    let run = try SyntheticStore.write(cells)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 50))
    #expect(analysis.groups.allSatisfy { $0.requests.isEmpty })
    #expect(!ReportRenderer(analysis).tables().contains { $0.title.hasPrefix("Requests") })
  }
}

/// A mode starved of CPU wakes rarely and its few samples look fast: the verdict names no
/// winner on a percentile they cannot hold, and gives both modes' rps instead.
@Suite struct ThinVerdictTests {
  @Test func aThinPercentileGetsNoWinner() throws {
    let modes = Array(SyntheticStore.modes.prefix(2))
    let cells = [
      // 8 wakeups per busy interval, 48 in the cell: fewer than the p99's 100.
      SyntheticStore.Cell(
        id: "out-of-box-r1", modeID: "out-of-box", repetition: 1,
        busy: { _ in (1...8).map { UInt64($0) } }, rps: 2),
      SyntheticStore.Cell(
        id: "hotplug-r1", modeID: "hotplug", repetition: 1, busy: SyntheticStore.ramp(50),
        rps: 65),
    ]
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
    defer { SyntheticStore.remove(run) }
    let sentences = ReportRenderer(RunAnalysis.analyze(try RunStore.load(from: run)))
      .verdictSentences()
    #expect(
      sentences.map(\.sentence) == [
        "no verdict at the p99: too few wakeup samples in Out of Box (48 samples); "
          + "a cell needs 100. rps: Out of Box 2, cpu_hotplug 65."
      ])
  }
}
