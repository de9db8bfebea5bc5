import Foundation
import PVBenchTestSupport
import Testing

/// Writes a small run folder as raw JSON, the way the run engine lays it out.
enum E2EStore {
  /// Two modes × two repetitions; busy samples are 1…100 µs × factor (1 or 2) × scale.
  /// `transitionOnly`: a mode whose busy intervals all lie in the settle window.
  static func write(
    runID: String, scale: UInt64 = 1, transitionOnly: String? = nil, reportPhase: String? = nil,
    repetitions: Int = 2, samplesPerValue: Int = 1, in parent: URL
  ) throws -> URL {
    let run = parent.appendingPathComponent(runID)
    let modes = [("out-of-box", "Out of Box", UInt64(1)), ("paravirt", "cpu_paravirt", UInt64(2))]
    var planned: [String] = []
    for (id, _, factor) in modes {
      for repetition in 1...repetitions {
        let cell = "\(id)-r\(repetition)"
        planned.append(cell)
        let folder = run.appendingPathComponent("cells/\(cell)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var lines = ""
        for index in 0..<8 {
          let busy = index % 2 == 0
          let tag = busy ? (id == transitionOnly ? "transition" : "busy") : "idle"
          let pairs = (1...100).map { n in
            "[\(UInt64(n) * 1000 * (busy ? factor * scale : 1)),\(samplesPerValue)]"
          }.joined(separator: ",")
          lines +=
            "{\"index\":\(index),\"slot\":\(index),\"missedIntervals\":0,\"startNanoseconds\":\(index)000000000,"
            + "\"endNanoseconds\":\(index + 1)000000000,\"phase\":\"\(tag)\","
            + "\"wakeup\":[\(pairs)],\"request\":[\(pairs)],\"rps\":1000,\"stealPercent\":10,"
            + "\"stealSource\":\"guest\",\"noiseBusyPercent\":null,\"modeApplied\":\(busy)}\n"
        }
        try lines.write(
          to: folder.appendingPathComponent("intervals.jsonl"), atomically: true, encoding: .utf8)
        let summary: [String: Any] = [
          "id": cell, "modeID": id, "point": [String: String](), "repetition": repetition,
          "status": "complete", "reasons": [String](), "startedAt": "2026-11-24T12:00:00Z",
          "endedAt": "2026-11-24T12:01:00Z", "phases": [String: Any](), "stealSource": "guest",
          "settleMilliseconds": 500,
        ]
        try JSONSerialization.data(withJSONObject: summary).write(
          to: folder.appendingPathComponent("cell.json"))
      }
    }
    let invalidID = "paravirt-r\(repetitions + 1)"
    let invalid = run.appendingPathComponent("cells/\(invalidID)")
    try FileManager.default.createDirectory(at: invalid, withIntermediateDirectories: true)
    try JSONSerialization.data(withJSONObject: [
      "id": invalidID, "modeID": "paravirt", "point": [String: String](),
      "repetition": repetitions + 1,
      "status": "invalid", "reasons": ["kernel WARN on lpar1 at 12 s"],
      "startedAt": "2026-11-24T12:00:00Z", "endedAt": "2026-11-24T12:01:00Z",
      "phases": [String: Any](), "stealSource": "guest", "settleMilliseconds": 500,
    ]).write(to: invalid.appendingPathComponent("cell.json"))
    var manifest: [String: Any] = [
      "pvbenchVersion": "0.1.0", "experimentName": "e2e", "runID": runID,
      "commandLine": ["pvbench", "run", "e2e.yaml"], "startedAt": "2026-11-24T12:00:00Z",
      "hosts": [
        [
          "name": "vm1", "role": "measure", "transport": "local", "kernelRelease": "6.1.0",
          "kernelCmdline": "quiet", "cpusPresent": "0-1", "cpusOnline": "0-1", "cores": 2,
          "threadsPerCore": 1, "entitled": 1, "interfaces": ["hotplug"],
          "stealAccounting": true,
        ]
      ],
      "modes": modes.map { ["id": $0.0, "kind": $0.0, "label": $0.1] },
      "plannedCells": planned + [invalidID], "scheduleDescription": "busy 1s / idle 1s",
      "sweepKeys": [String](), "repetitions": repetitions,
      "reportPercentiles": [50, 90, 99, 99.9],
    ]
    if let reportPhase { manifest["reportPhase"] = reportPhase }
    try JSONSerialization.data(withJSONObject: manifest).write(
      to: run.appendingPathComponent("manifest.json"))
    return run
  }

  static func temporary() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("pvbench-e2e-\(UUID())")
  }
}

@Suite struct ReportCommandTests {
  @Test func reportPrintsTheTableAndWritesTheFolder() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", in: parent)
    let result = try CLI.run(["report", run.path, "--gnuplot", "/nonexistent/gnuplot"])
    #expect(result.status == 0)
    #expect(
      result.stdout.contains(
        """
        Wakeup latency (usec), busy phase, median of 2 repetitions
        percentile  Out of Box  cpu_paravirt
        50.0th              50           100
        90.0th              90           180
        99.0th              99           198
        99.9th            100?          200?
        samples            800           800
        intervals            8             8
        gaps                 0             0
        ?: a cell holds fewer samples than the percentile needs (the 99.9th
          needs 1000); fewest per cell: Out of Box 400, cpu_paravirt 400. Not a
          measurement of that percentile.
        samples, intervals, gaps: in the busy phase, summed over the cells;
          gaps: intervals the snapshot thread slept through, starved (their
          samples are in the late interval).
        """))
    #expect(result.stdout.contains("paravirt-r3  invalid  kernel WARN on lpar1 at 12 s"))
    #expect(
      result.stderr
        == "pvbench report: gnuplot not found; wrote the .gp and .dat files to "
        + "\(run.path)/report (install gnuplot-nox and run 'gnuplot NAME.gp' there to draw "
        + "them).\n")
    for file in ["report.html", "report.txt", "percentiles.gp", "nines.dat", "timeline.gp"] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent("report/\(file)").path),
        "\(file)")
    }
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot")))
  func reportDrawsPlotsWithGnuplotIntoOutput() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", in: parent)
    let output = parent.appendingPathComponent("out")
    let result = try CLI.run(["report", run.path, "--output", output.path, "--format", "csv"])
    #expect(result.status == 0)
    #expect(result.stderr == "")
    #expect(
      result.stdout.hasPrefix(
        "phase,mode,label,metric,percentile,value,low,high,repetitions,method\n"))
    #expect(result.stdout.contains("busy,paravirt,cpu_paravirt,wakeup_us,99.9,"))
    let png = try Data(contentsOf: output.appendingPathComponent("nines.png"))
    #expect(Array(png.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
    let html = try String(contentsOf: output.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(html.contains("<svg"))
  }

  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot")))
  func anEmptyPhaseIsReportedAsNoDataAndExitsZero() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", transitionOnly: "out-of-box", in: parent)
    let result = try CLI.run(["report", run.path])
    #expect(result.status == 0)
    #expect(
      result.stdout.contains(
        """
        Wakeup latency (usec), busy phase, median of 2 repetitions
        percentile  Out of Box  cpu_paravirt
        50.0th               -           100
        90.0th               -           180
        99.0th               -           198
        99.9th               -          200?
        samples              0           800
        intervals            0             8
        gaps                 0             0
        -: no data for Out of Box: no busy interval outside the 500 ms settle
          window.
        """))
    #expect(!result.stdout.contains("0 repetitions"))
    #expect(
      result.stderr
        == "pvbench report: percentiles and nines leave out Out of Box: no wakeup sample in "
        + "the busy phase.\n")
    for file in ["percentiles.png", "nines.svg", "timeline.png", "report.html"] {
      #expect(
        FileManager.default.fileExists(atPath: run.appendingPathComponent("report/\(file)").path),
        "\(file)")
    }
  }

  @Test func thePhaseDefaultsToTheExperimentsReportPhase() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", reportPhase: "idle", in: parent)
    let defaulted = try CLI.run(["report", run.path, "--no-plots"])
    #expect(defaulted.status == 0)
    #expect(defaulted.stdout.contains("Wakeup latency (usec), idle phase, median of 2 repetitions"))
    #expect(defaulted.stdout.contains("repetitions: 2 per point; phase: idle\n"))
    let given = try CLI.run(["report", run.path, "--no-plots", "--phase", "busy"])
    #expect(given.stdout.contains("Wakeup latency (usec), busy phase, median of 2 repetitions"))
  }

  @Test func reportOfAMissingFolderIsInvalidInput() throws {
    let result = try CLI.run(["report", "/nonexistent/run"])
    #expect(result.status == 2)
    #expect(
      result.stderr
        == "pvbench report: '/nonexistent/run' is not a run folder: it has no manifest.json. "
        + "Pass a folder results/<experiment>/<run-id> written by 'pvbench run'.\n")
  }

  @Test func seedMakesTheReportReproducible() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", in: parent)
    let arguments = ["report", run.path, "--no-plots", "--format", "json", "--seed", "7"]
    let first = try CLI.run(arguments)
    let second = try CLI.run(arguments)
    #expect(first.status == 0)
    #expect(first.stdout == second.stdout)
    #expect(first.stdout.contains("\"method\" : \"repetitions\""))
  }
}
