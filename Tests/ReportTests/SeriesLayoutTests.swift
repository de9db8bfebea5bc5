import Foundation
import Results
import Testing
import Vocabulary

@testable import Report

/// The series' three-column layout (issue 23, item 3): two kernels swept and the modes
/// out-of-box and preferred read as `baseline | built, not loaded | loaded`.
@Suite struct SeriesLayoutTests {
  static let key = "hosts.lpar1.qemu.kernel"
  static let modes = [
    ModeRecord(id: "out-of-box", kind: .outOfBox, label: "Out of Box"),
    ModeRecord(
      id: "preferred", kind: .preferred, label: "preferred",
      moduleParameters: "interval_ms=1000 high_threshold=500 low_threshold=200"),
  ]
  static let unsupported =
    "lpar1: preferred needs the steal_governor module (for "
    + "/sys/devices/system/cpu/preferred)"

  /// Baseline ramp ×2 (rps 1000), built ×3 (rps 900), loaded ×1 (rps 1200); the baseline
  /// kernel's preferred cell fails, and so does the series' when `loadedFails`.
  static func report(loadedFails: Bool) throws -> (ReportRenderer, String) {
    let kernels = ["/k/base", "/k/series"]
    var cells: [SyntheticStore.Cell] = []
    for (index, kernel) in kernels.enumerated() {
      cells.append(
        SyntheticStore.Cell(
          id: "oob-\(index)", modeID: "out-of-box", point: [key: kernel], repetition: 1,
          busy: SyntheticStore.ramp(index == 0 ? 2 : 3), intervals: 12,
          rps: index == 0 ? 1000 : 900))
      let fails = index == 0 || loadedFails
      cells.append(
        SyntheticStore.Cell(
          id: "pref-\(index)", modeID: "preferred", point: [key: kernel], repetition: 1,
          status: fails ? .failed : .complete, reasons: fails ? [unsupported] : [],
          busy: SyntheticStore.ramp(1), intervals: 12, rps: 1200))
    }
    var manifest = SyntheticStore.manifest(
      cells: cells, sweepKeys: [key], repetitions: 1, modes: modes)
    manifest.kernels = [
      KernelRecord(
        host: "lpar1", point: [key: "/k/base"], kernelRelease: "6.1.0-57-cloud-amd64",
        kernelCmdline: "console=ttyS0"),
      KernelRecord(
        host: "lpar2", point: [key: "/k/base"], kernelRelease: "6.1.0-57-cloud-amd64",
        kernelCmdline: "console=ttyS0"),
      KernelRecord(
        host: "lpar1", point: [key: "/k/series"], kernelRelease: "6.18.0-series",
        kernelCmdline: "console=ttyS0 schedstats=enable"),
    ]
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(
      try RunStore.load(from: run), options: AnalysisOptions(resamples: 100))
    let renderer = ReportRenderer(analysis)
    return (renderer, renderer.text())
  }

  /// Figures by hand from the ramps (p50 = 50 x factor, request = 10 x wakeup); above
  /// 2048 usec the histogram keeps 3 significant digits, so 2700 reads 2701, 2970 reads
  /// 2972 and 2000 reads 2001 (and p99's cost +50.1 %).
  @Test func threeColumnsWithTheFrameworksCost() throws {
    let (renderer, text) = try Self.report(loadedFails: false)
    #expect(
      renderer.headerLines().filter { $0.contains("(K") } == [
        "baseline (K1, hosts.lpar1.qemu.kernel=/k/base): lpar1 6.1.0-57-cloud-amd64, "
          + "cmdline 'console=ttyS0'; Out of Box: steal_governor not loaded",
        "built, not loaded (K2, hosts.lpar1.qemu.kernel=/k/series): lpar1 6.18.0-series, "
          + "cmdline 'console=ttyS0 schedstats=enable'; Out of Box: steal_governor not "
          + "loaded",
        "loaded (K2, hosts.lpar1.qemu.kernel=/k/series): lpar1 6.18.0-series, cmdline "
          + "'console=ttyS0 schedstats=enable'; preferred: steal_governor loaded "
          + "(interval_ms=1000 high_threshold=500 low_threshold=200)",
      ])
    let table = try #require(renderer.tables().first)
    #expect(
      table.text(width: 72) == """
        Series layout (usec, rps), busy phase
                       baseline  built, not loaded  loaded
        wakeup p50          100                150      50
        wakeup p90          180                270      90
        wakeup p99          198                297      99
        wakeup p99.9        200                300     100
        request p50        1000               1500     500
        request p90        1800               2701     900
        request p99        1980               2972     990
        request p99.9      2001               3000    1000
        rps                1000                900    1200
        framework's cost (built, not loaded vs baseline): wakeup p50 +50.0 %,
          p90 +50.0 %, p99 +50.1 %, p99.9 +50.0 %, rps -10.0 %
        Columns: K1 Out of Box, K2 Out of Box, K2 preferred (kernels in the
          header); 1 repetition.

        """)
    // The K1 × preferred cell, which the layout leaves out, is listed as not averaged in.
    #expect(text.contains("Cells not averaged in"))
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 72 })
    // No second kernel × mode table: the layout takes its place.
    #expect(!text.contains("by kernel and mode"))
  }

  @Test func aModuleThatCannotLoadLeavesADashAndTheReason() throws {
    let (renderer, text) = try Self.report(loadedFails: true)
    let table = try #require(renderer.tables().first)
    #expect(
      table.text(width: 72) == """
        Series layout (usec, rps), busy phase
                       baseline  built, not loaded  loaded
        wakeup p50          100                150       —
        wakeup p90          180                270       —
        wakeup p99          198                297       —
        wakeup p99.9        200                300       —
        request p50        1000               1500       —
        request p90        1800               2701       —
        request p99        1980               2972       —
        request p99.9      2001               3000       —
        rps                1000                900       —
        framework's cost (built, not loaded vs baseline): wakeup p50 +50.0 %,
          p90 +50.0 %, p99 +50.1 %, p99.9 +50.0 %, rps -10.0 %
        — loaded: no valid cell (1 failed): lpar1: preferred needs the
          steal_governor module (for /sys/devices/system/cpu/preferred).
        Columns: K1 Out of Box, K2 Out of Box, K2 preferred (kernels in the
          header); 1 repetition.

        """)
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= 72 })
  }

  /// Another shape (three modes) keeps the kernel × mode tables.
  @Test func otherShapesKeepTheKernelTables() throws {
    var cells: [SyntheticStore.Cell] = []
    for kernel in ["/k/a", "/k/b"] {
      for mode in SyntheticStore.modes {
        cells.append(
          SyntheticStore.Cell(
            id: "\(mode.id)-\(kernel.last!)", modeID: mode.id, point: [Self.key: kernel],
            repetition: 1, busy: SyntheticStore.ramp(1)))
      }
    }
    var manifest = SyntheticStore.manifest(cells: cells, sweepKeys: [Self.key], repetitions: 1)
    manifest.kernels = ["/k/a", "/k/b"].map {
      KernelRecord(host: "lpar1", point: [Self.key: $0], kernelRelease: "r", kernelCmdline: "c")
    }
    let run = try SyntheticStore.write(cells, manifest: manifest)
    defer { SyntheticStore.remove(run) }
    let renderer = ReportRenderer(
      RunAnalysis.analyze(try RunStore.load(from: run), options: AnalysisOptions(resamples: 50)))
    #expect(renderer.seriesColumns == nil)
    #expect(renderer.tables().first?.title.hasPrefix("Wakeup latency (usec) by kernel") == true)
  }
}
