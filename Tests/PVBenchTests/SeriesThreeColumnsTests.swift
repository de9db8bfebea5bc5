import Foundation
import PVBenchTestSupport
import Results
import Testing

/// The series' three-column experiment on fake kernel trees (issue 23, item 3): `box`'s
/// root is swept over a baseline tree (no steal_governor) and a series tree (with it), so
/// the agent reconnects at each point and the report takes each column's kernel from the
/// facts of that point.
@Suite(.serialized) struct SeriesThreeColumnsTests {
  @Test func theShippedExperimentPlans() throws {
    let result = try CLI.run(
      [
        "plan",
        CLI.packageRoot.appendingPathComponent("experiments/series-three-columns.yaml")
          .path,
      ], timeout: 60)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("hosts.vm1.qemu.kernel"), "\(result.stdout)")
  }

  @Test func aFakeTreeRunReportsTheThreeColumns() throws {
    let baseline = try FakeHostTree(
      cores: 2, threadsPerCore: 1, paravirt: false, kernelRelease: "6.1.0-57-cloud-amd64")
    let series = try FakeHostTree(
      cores: 2, threadsPerCore: 1, paravirt: false, stealGovernorModule: true,
      kernelRelease: "6.18.0-series")
    try series.write("/proc/cmdline", "BOOT_IMAGE=/bzImage root=/dev/vda schedstats=enable\n")
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-series-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer {
      baseline.remove()
      series.remove()
      try? FileManager.default.removeItem(at: work)
    }
    // No noise host: the machine's CPUs stay quiet; the layout is what is tested.
    let yaml = """
      name: series-fake
      hosts:
        box: { local: { root: \(baseline.root) }, entitled: 1 }
      measure:
        host: box
        schbench: { message_threads: 1, workers: 1, runtime: 4s, interval: 1s, \
      cache_footprint: 4K, operations: 1 }
      modes:
        - out-of-box
        - preferred: { interval: 100ms }
      trigger: static
      settle: 300ms
      sweep:
        hosts.box.local.root: [\(baseline.root), \(series.root)]
      """
    let file = work.appendingPathComponent("series.yaml").path
    try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    let result = try CLI.run(
      ["run", file, "--results", work.appendingPathComponent("results").path], timeout: 180)
    // The baseline tree has no module: its preferred cell fails (exit status 1), the run
    // goes on to the series tree.
    #expect(result.stderr.contains("done: 3 complete, 0 invalid, 1 failed"), "\(result.stderr)")
    #expect(result.stderr.contains("reconnecting box for the next sweep point"))
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let manifest = try JSONDecoder().decode(
      RunManifest.self, from: Data(contentsOf: URL(fileURLWithPath: run + "/manifest.json")))
    // Each point's kernel, from the facts the agent read at that point.
    #expect(
      manifest.kernels?.map(\.kernelRelease) == ["6.1.0-57-cloud-amd64", "6.18.0-series"],
      "\(result.stderr)")
    #expect(manifest.modes.last?.moduleParameters?.hasPrefix("interval_ms=100 ") == true)

    // No noise, so no busy phase: the report takes every interval.
    let report = try CLI.run(
      ["report", run, "--format", "text", "--no-plots", "--phase", "all"], timeout: 120)
    let lines = report.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.allSatisfy { $0.count <= 72 })
    let header = lines.filter { $0.hasPrefix("baseline (K1") || $0.hasPrefix("loaded (K2") }
    #expect(header.count == 2, "\(report.stdout)")
    #expect(report.stdout.contains("6.1.0-57-cloud-amd64, cmdline 'BOOT_IMAGE=/vmlinuz"))
    #expect(report.stdout.contains("6.18.0-series, cmdline 'BOOT_IMAGE=/bzImage"))
    let start = try #require(
      lines.firstIndex { $0.hasPrefix("Series layout") }, "\(report.stdout)")
    let table = lines[start...].prefix { !$0.isEmpty }.map(String.init)
    print(table.joined(separator: "\n"))
    #expect(table[0] == "Series layout (usec, rps), all phase")
    #expect(
      table[1].split(separator: " ", omittingEmptySubsequences: true)
        == ["baseline", "built,", "not", "loaded", "loaded"])
    // The series tree loads the module: every column has figures, and the cost line.
    let rps = try #require(table.first { $0.hasPrefix("rps ") })
    #expect(rps.split(separator: " ").count == 4, "\(rps)")
    #expect(!rps.contains("—"))
    #expect(table.contains { $0.hasPrefix("framework's cost (built, not loaded vs baseline)") })
  }
}
