import Foundation
import PVBenchTestSupport
import Results
import Testing

/// The experiment file of the runs on local agents: `box` measures schbench on a fake
/// kernel tree (so nothing on this machine changes) and `noisy` burns this machine's real
/// CPUs on a busy/idle schedule. The defaults are the short cells most tests use.
struct LocalExperiment {
  /// The experiment's name (the results folder's name).
  var name: String
  /// The fake tree the measure host `box` acts on.
  var root: String
  /// More hosts, one YAML line each (`other: { local: { root: … } }`), listed between
  /// `box` and `noisy`.
  var moreHosts: [String] = []
  /// schbench workers per message thread.
  var workers = 1
  /// schbench's runtime.
  var runtime = "6s"
  /// The noise host: `noisy`, or another name or a flow list of names.
  var noiseHost = "noisy"
  /// The noise's busy phase.
  var busy = "2s"
  /// The noise's idle phase.
  var idle = "2s"
  /// Burner threads of the noise.
  var burners = 1
  /// The noise's engine (`builtin` or `stress-ng`).
  var engine = "builtin"
  /// The modes, one YAML list item each without its `- `.
  var modes: [String]
  /// The settle window after each edge.
  var settle = "300ms"
  /// `repeat:`, left out when nil.
  var repetitions: Int? = nil

  /// The file's text.
  var yaml: String {
    let hosts =
      ["box: { local: { root: \(root) }, entitled: 1 }"] + moreHosts + ["noisy: { local: {} }"]
    var lines = ["name: \(name)", "hosts:"] + hosts.map { "  " + $0 }
    lines += [
      "measure:", "  host: box",
      "  schbench: { message_threads: 1, workers: \(workers), runtime: \(runtime), interval: 1s, "
        + "cache_footprint: 4K, operations: 1 }",
      "noise:", "  host: \(noiseHost)",
      "  stress: { busy: \(busy), idle: \(idle), workers: \(burners), engine: \(engine) }",
      "modes:",
    ]
    lines += modes.map { "  - " + $0 }
    lines.append("settle: \(settle)")
    if let repetitions { lines.append("repeat: \(repetitions)") }
    return lines.joined(separator: "\n")
  }
}

/// A one-cell `pvbench run` of a local experiment: its run folder, its cell and the cell's
/// events.
struct LocalRun {
  /// The run folder `pvbench run` printed.
  let folder: String
  /// The first cell's id.
  let cell: String
  /// That cell's `events.jsonl`.
  let events: [EventRecord]
}

extension LocalExperiment {
  /// Writes the file as `<work>/<name>.yaml` and runs it into `<work>/results` while
  /// `writer` changes the fake kernel on its own thread; the writer must return once its
  /// flag is set, which happens when the run ends (or throws).
  /// - Throws: when the run leaves no cell, or its events do not read.
  func runWhile(
    in work: URL, _ writer: @escaping @Sendable (_ stop: ManagedAtomicFlag) -> Void
  ) throws -> LocalRun {
    let file = work.appendingPathComponent("\(name).yaml").path
    try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    let stop = ManagedAtomicFlag()
    let thread = Thread { writer(stop) }
    thread.start()
    defer { stop.set() }
    let result = try CLI.run(
      ["run", file, "--results", work.appendingPathComponent("results").path], timeout: 120)
    stop.set()
    let run = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let cell = try #require(
      try FileManager.default.contentsOfDirectory(atPath: run + "/cells").first, "\(result.stderr)")
    let events = try RunStore.readLines(
      EventRecord.self, url: URL(fileURLWithPath: "\(run)/cells/\(cell)/events.jsonl"))
    return LocalRun(folder: run, cell: cell, events: events)
  }
}

/// A flag another thread can set (for a background writer's bounded loop).
final class ManagedAtomicFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var value = false
  var isSet: Bool { lock.withLock { value } }
  func set() { lock.withLock { value = true } }
}
