import Foundation
import PVBenchTestSupport
import Testing

/// `pvbench watch`: the running cell drawn by gnuplot's dumb terminal.
@Suite struct WatchCommandTests {
  @Test func drawsTheCellWhoseIntervalsChangedLast() throws {
    let parent = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("pvbench-watch-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "r1", in: parent)
    // The cell written last: touch its intervals after the others.
    let last = run.appendingPathComponent("cells/paravirt-r2/intervals.jsonl")
    try FileManager.default.setAttributes(
      [.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: last.path)
    let result = try CLI.run(["watch", run.path, "--once"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("paravirt-r2: 8 intervals"))
    #expect(result.stdout.contains("p99 wakeup (us)"))
    #expect(result.stdout.contains("steal %"))
    #expect(result.stdout.contains("+-------"))  // the dumb terminal's frame
    #expect(!result.stdout.contains("\u{1B}[2J"))  // no screen clearing off a terminal
  }

  @Test func refusesAFolderThatIsNoRun() throws {
    let result = try CLI.run(["watch", "/nonexistent/run", "--once"])
    #expect(result.status == 2)
    #expect(
      result.stderr.contains("'/nonexistent/run' is not a run folder: it has no manifest.json."))
  }
}
