import AgentProtocol
import ArgumentParser
import Foundation
import LinuxHost
import Vocabulary
import Workloads

extension PVBench.Workload {
  struct Stress: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "stress",
      abstract: "Cycle CPU burners through busy and idle phases and record the actual edges.",
      discussion: """
        Durations take a unit: ns, us, ms, s, m (e.g. 300ms, 1.5s). Each edge prints when \
        it happened against the schedule; each phase prints the busy fraction it reached, \
        from /proc/stat over all online CPUs, in units of the requested workers (so other \
        load on the machine counts too). With --json, one JSON object per line instead: \
        {"edge": {...}} and {"phase": {...}}.

        Engines: builtin = one spinning thread per worker, parked on a futex while idle; \
        stress-ng = 'stress-ng --cpu N --cpu-method int64', started once and paused with \
        SIGSTOP / resumed with SIGCONT at each edge (--stress-ng-control restart starts and \
        terminates it per busy phase instead); auto = stress-ng when on PATH, else builtin. \
        SIGINT and SIGTERM end the cycle, stop every burner and reap stress-ng before exit \
        (code 130).
        """
    )

    @Option(help: "Length of each busy phase, e.g. 300ms.")
    var busy: String?

    @Option(help: "Length of each idle phase, e.g. 300ms (0 = always busy).")
    var idle: String?

    @Option(help: "Number of busy+idle cycles.")
    var cycles: String?

    @Option(help: "Total length, e.g. 60s (with --cycles: whichever ends first).")
    var duration: String?

    @Option(help: "Number of CPU burners, or 'all' for one per online CPU.")
    var workers: String = "all"

    @Option(help: "stress-ng, builtin or auto.")
    var engine: String = "auto"

    @Option(help: "How stress-ng is switched: stop-continue or restart.")
    var stressNGControl: String = "stop-continue"

    @Flag(help: "Print one JSON object per edge and per phase instead of text.")
    var json = false

    func parseOptions() throws -> StressOptions {
      func invalid(_ text: String) -> WorkloadError { .invalidOption(text) }
      guard let busy else { throw invalid("'--busy' is required, e.g. '--busy 300ms'.") }
      guard let idle else { throw invalid("'--idle' is required, e.g. '--idle 300ms'.") }
      let busyNanoseconds = try Self.duration(busy, flag: "--busy")
      guard busyNanoseconds > 0 else {
        throw invalid("'--busy' must be longer than 0, got '\(busy)'.")
      }
      let idleNanoseconds = try Self.duration(idle, flag: "--idle")
      var cycleCount: Int?
      if let cycles {
        guard let count = Int(cycles) else {
          throw invalid("'--cycles' must be a whole number, got '\(cycles)'.")
        }
        guard count >= 1 else { throw invalid("'--cycles' must be at least 1, got '\(cycles)'.") }
        cycleCount = count
      }
      var total: UInt64?
      if let duration {
        let value = try Self.duration(duration, flag: "--duration")
        guard value > 0 else {
          throw invalid("'--duration' must be longer than 0, got '\(duration)'.")
        }
        total = value
      }
      var workerCount: Int?
      if workers != "all" {
        guard let count = Int(workers) else {
          throw invalid("'--workers' must be a whole number or 'all', got '\(workers)'.")
        }
        guard count >= 1 else {
          throw invalid("'--workers' must be at least 1, got '\(workers)'.")
        }
        workerCount = count
      }
      guard let engineChoice = StressEngine(rawValue: engine) else {
        throw invalid("'--engine' must be stress-ng, builtin or auto, got '\(engine)'.")
      }
      guard let control = StressNGControl(rawValue: stressNGControl) else {
        throw invalid(
          "'--stress-ng-control' must be stop-continue or restart, got '\(stressNGControl)'.")
      }
      return StressOptions(
        busyNanoseconds: busyNanoseconds, idleNanoseconds: idleNanoseconds, cycles: cycleCount,
        durationNanoseconds: total, workers: workerCount, engine: engineChoice,
        stressNGControl: control)
    }

    /// Parses `300ms`, `1.5s`, `2m`, `500us`, `100ns` (or a bare `0`) into nanoseconds,
    /// with the experiment files' duration grammar.
    static func duration(_ text: String, flag: String) throws -> UInt64 {
      if text == "0" { return 0 }
      guard let value = DurationValue(parsing: text) else {
        throw WorkloadError.invalidOption(
          "'\(flag)' must be a duration such as '300ms' or '2s', got '\(text)'.")
      }
      return value.nanoseconds
    }

    func run() throws {
      let options: StressOptions
      let cycler: StressCycler
      do {
        options = try parseOptions()
        cycler = try StressCycler(options: options)
      } catch {
        throw CommandFailure(.invalidInput, "pvbench workload stress: \(error)")
      }
      let signals = WorkloadSignals { cycler.stop() }
      defer { signals.cancel() }
      let origin = UncheckedBox<UInt64>(0)
      let asJSON = json
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      do {
        try cycler.start(
          onEdge: { edge in
            if asJSON {
              Self.emit(["edge": edge], encoder: encoder)
              return
            }
            if origin.value == 0 { origin.value = edge.scheduledMonotonicNanoseconds }
            let scheduled = Double(edge.scheduledMonotonicNanoseconds - origin.value) / 1e9
            let actual = Double(edge.monotonicNanoseconds &- origin.value) / 1e9
            Self.say(
              "edge \(edge.phase.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) "
                + "cycle \(edge.cycle)  scheduled +\(Self.fixed(scheduled, 3)) s  "
                + "actual +\(Self.fixed(actual, 4)) s  "
                + "late \(Self.fixed(Double(edge.lateNanoseconds) / 1e6, 2)) ms")
          },
          onPhase: { phase in
            if asJSON {
              Self.emit(["phase": phase], encoder: encoder)
              return
            }
            let length = Double(phase.endMonotonicNanoseconds - phase.startMonotonicNanoseconds)
            Self.say(
              "phase \(phase.phase.rawValue) cycle \(phase.cycle): \(Self.fixed(length / 1e9, 3)) s, "
                + "busy \(Self.fixed(phase.busyFraction * 100, 1)) % of \(phase.workers) "
                + "workers, burners ran "
                + "\(phase.burnerFraction.map { Self.fixed($0 * 100, 1) + " %" } ?? "n/a") "
                + "(\(phase.engine))")
          })
      } catch {
        throw CommandFailure(.runtimeFailure, "pvbench workload stress: \(error)")
      }
      cycler.wait()
      // Every burner is stopped and reaped: an interruption, not a failure of its own.
      if signals.interrupted { throw CommandFailure(.interrupted) }
    }

    static func emit<T: Encodable>(_ value: T, encoder: JSONEncoder) {
      guard let data = try? encoder.encode(value) else { return }
      say(String(decoding: data, as: UTF8.self))
    }

    static func say(_ line: String) {
      FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func fixed(_ value: Double, _ digits: Int) -> String {
      String(format: "%.\(digits)f", value)
    }
  }
}

/// A mutable value shared with callbacks that run on one thread at a time.
final class UncheckedBox<Value>: @unchecked Sendable {
  var value: Value
  init(_ value: Value) { self.value = value }
}
