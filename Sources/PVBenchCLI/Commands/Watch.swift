import ArgumentParser
import Foundation
import LinuxHost
import Report
import Results
import Vocabulary

extension PVBench {
  struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "watch",
      abstract: "Draw a run's running cell in the terminal: p99, steal and busy phases.",
      discussion: """
        Reads RUN_DIR while 'pvbench run' writes it (from another terminal, or another \
        machine sharing the folder) and redraws the cell whose intervals changed last with \
        gnuplot's dumb terminal. Ends when the run ends, or when nothing in RUN_DIR \
        changed for ten minutes.
        """
    )

    @Argument(help: "The run folder results/<experiment>/<run-id>.")
    var runDirectory: String

    @Option(help: "How often to redraw (a duration: 500ms, 1s, 5s).")
    var every = "1s"

    @Flag(help: "Draw once and exit.")
    var once = false

    @Option(help: "The gnuplot to use (a path or a name on PATH).")
    var gnuplot: String?

    func validate() throws {
      guard let period = DurationValue(parsing: every), period.nanoseconds >= 100_000_000 else {
        throw ValidationError("'--every' must be a duration of at least 100ms, got '\(every)'.")
      }
      guard RunLayout(URL(fileURLWithPath: runDirectory)).holdsRun else {
        throw ValidationError(
          "'\(runDirectory)' is not a run folder: it has no \(RunLayout.manifestName).")
      }
    }

    func run() async throws {
      let run = URL(fileURLWithPath: runDirectory)
      let view = LiveView(gnuplot: Gnuplot(path: gnuplot))
      let period = DurationValue(parsing: every)!.duration
      let terminal = isatty(1) == 1
      var lastChange = Date()
      var lastSeen = Date.distantPast
      while true {
        let current = RunLayout(run).lastWrittenCell()
        let picture =
          current.map { view.render(cell: $0.files.directory) }
          ?? "\(runDirectory): no cell has intervals yet\n"
        // Home and clear on a terminal, so each picture replaces the last.
        FileHandle.standardOutput.write(
          Data(((terminal ? "\u{1B}[H\u{1B}[2J" : "") + picture).utf8))
        if once || Self.ended(run) { return }
        if let changed = current?.modified, changed > lastSeen {
          lastSeen = changed
          lastChange = Date()
        }
        if Date().timeIntervalSince(lastChange) > 600 {
          printToStandardError(
            "pvbench watch: nothing changed in \(runDirectory) for ten minutes; stopping.")
          return
        }
        try await Task.sleep(for: period)
      }
    }

    /// True once the run wrote its end time into the manifest.
    static func ended(_ run: URL) -> Bool {
      (try? RunStore.readManifest(of: run))?.endedAt != nil
    }
  }
}
