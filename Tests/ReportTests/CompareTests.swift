import Foundation
import Results
import Testing

@testable import Report

@Suite struct CompareTests {
  /// Five repetitions per mode; repetition r scales the 10…1000 µs ramp by `factors[r]`/100.
  static func run(_ runID: String, factors: [UInt64], scale: UInt64 = 100) throws -> URL {
    var cells: [SyntheticStore.Cell] = []
    for mode in SyntheticStore.modes.prefix(2) {
      for (repetition, factor) in factors.enumerated() {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-r\(repetition + 1)", modeID: mode.id, repetition: repetition + 1,
            busy: { _ in (1...100).map { UInt64($0) * 10 * factor * scale / 10_000 } },
            rps: Double(1000 * 100 / scale)))
      }
    }
    let manifest = SyntheticStore.manifest(
      runID: runID, cells: cells, repetitions: factors.count,
      modes: Array(SyntheticStore.modes.prefix(2)))
    return try SyntheticStore.write(cells, manifest: manifest)
  }

  static func analyses(_ runs: [URL]) throws -> [RunAnalysis] {
    try runs.enumerated().map { index, url in
      RunAnalysis.analyze(
        try RunStore.load(from: url),
        options: AnalysisOptions(seed: SeededGenerator.derive(1, "run\(index)"), resamples: 500))
    }
  }

  /// Compares run `a` (repetitions scaled by `noiseA`) with run `b` (by `factors`, and
  /// every latency by `scale`/100) at a 10 % threshold; both stores are removed after.
  static func compareWithNoiseA(_ factors: [UInt64], scale: UInt64 = 100) throws
    -> RunComparison
  {
    let a = try run("a", factors: noiseA)
    let b = try run("b", factors: factors, scale: scale)
    defer { [a, b].forEach(SyntheticStore.remove) }
    return RunComparison.compare(try analyses([a, b]), threshold: 0.1)
  }

  static let noiseA: [UInt64] = [100, 110, 90, 105, 95]
  static let noiseB: [UInt64] = [104, 92, 108, 97, 101]

  @Test func identicalRunsShowNoSignificantChange() throws {
    let comparison = try Self.compareWithNoiseA(Self.noiseA)
    #expect(!comparison.rows.isEmpty)
    for row in comparison.rows {
      #expect(row.cells[1].change == 0)
      #expect(!row.cells[1].significant, "\(row.label) \(row.metric)")
    }
    #expect(comparison.regressions.isEmpty)
    #expect(comparison.setupDifferences.isEmpty)
  }

  @Test func doubledLatencyIsASignificantRegression() throws {
    let comparison = try Self.compareWithNoiseA(Self.noiseA, scale: 200)
    let p99 = try #require(comparison.rows.first { $0.metric == "99.0th" })
    #expect(p99.cells[1].significant)
    #expect(abs(p99.cells[1].change! + 1.0) < 0.01)
    #expect(!comparison.regressions.isEmpty)
    let text = comparison.text()
    #expect(text.contains("99.0th    990   1980 (-100.00%)*"))
    // 500 samples per cell cannot hold a 99.9th: shown marked, inconclusive.
    #expect(text.contains("99.9th  1000?  2001? (-100.00%)~\n"))
    #expect(text.contains("Regressions beyond the threshold: Out of Box 50.0th"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 72 })
  }

  @Test func halvedLatencyIsSignificantAndBetter() throws {
    let comparison = try Self.compareWithNoiseA(Self.noiseA, scale: 50)
    let p50 = try #require(comparison.rows.first { $0.metric == "50.0th" })
    #expect(p50.cells[1].significant)
    #expect(p50.cells[1].change! > 0.45)
    #expect(comparison.regressions.isEmpty)
  }

  @Test func noiseAloneIsNotSignificant() throws {
    let comparison = try Self.compareWithNoiseA(Self.noiseB)
    let latency = comparison.rows.filter { $0.lowerIsBetter }
    #expect(!latency.isEmpty)
    #expect(latency.allSatisfy { !$0.cells[1].significant })
    #expect(latency.contains { ($0.cells[1].change ?? 0) != 0 })
  }

  @Test func differentSetUpsCompareOnlySharedCellsAndSayWhatDiffers() throws {
    let a = try Self.run("a", factors: Self.noiseA)
    var cells = [
      SyntheticStore.Cell(
        id: "out-of-box-r1", modeID: "out-of-box", repetition: 1, busy: SyntheticStore.ramp(1))
    ]
    cells.append(
      SyntheticStore.Cell(
        id: "paravirt-r1", modeID: "paravirt", repetition: 1, busy: SyntheticStore.ramp(1)))
    let b = try SyntheticStore.write(
      cells,
      manifest: SyntheticStore.manifest(
        runID: "b", cells: cells, repetitions: 1, kernel: "6.18.0-rc1"))
    defer { [a, b].forEach(SyntheticStore.remove) }
    let comparison = RunComparison.compare(try Self.analyses([a, b]), threshold: 0.1)
    #expect(Set(comparison.rows.map(\.key.modeID)) == ["out-of-box"])
    #expect(comparison.notShared == ["cpu_hotplug", "cpu_paravirt"])
    #expect(
      comparison.setupDifferences.contains(
        "host lpar1 kernel: '6.1.0-56-cloud-amd64' in a, '6.18.0-rc1' in b."))
    #expect(comparison.setupDifferences.contains("repetitions: '5' in a, '1' in b."))
    // The measure host's kernel names each run's column when the kernels differ.
    #expect(
      comparison.kernels == [
        "lpar1: kernel 6.1.0-56-cloud-amd64, cmdline 'console=ttyS0'",
        "lpar1: kernel 6.18.0-rc1, cmdline 'console=ttyS0'",
      ])
    #expect(
      comparison.text().hasPrefix(
        "pvbench compare, busy phase; baseline a\n  A = a (baseline)\n"
          + "      lpar1: kernel 6.1.0-56-cloud-amd64, cmdline 'console=ttyS0'\n"
          + "  B = b\n      lpar1: kernel 6.18.0-rc1, cmdline 'console=ttyS0'\n"))
  }
}
