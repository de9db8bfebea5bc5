import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary

/// Reports a run's progress: live status lines on a terminal, timestamped lines
/// elsewhere (CI, logs). Everything goes to standard error; standard output carries
/// only the run folder, so scripts can capture it.
package final class RunProgress: @unchecked Sendable {
  package enum Verbosity: Sendable { case quiet, normal, verbose }

  package let verbosity: Verbosity
  package let live: Bool
  private let lock = NSLock()
  private var drawnLines = 0
  private var cellLabel = ""
  private var cellStart: UInt64 = 0
  private var cellSeconds: Double = 0
  private var remainingAfterCell: Double = 0
  private var lastPlainStatus: UInt64 = 0
  private var lastPhase: Phase?
  private var hosts: [String] = []
  private var panel: [String] = []

  package init(verbosity: Verbosity, terminal: Bool = isatty(2) == 1) {
    self.verbosity = verbosity
    live =
      terminal && verbosity != .quiet
      && (ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty
  }

  private func write(_ text: String) {
    printToStandardError(text)
  }

  private func stamp() -> String {
    let formatter = DateFormatter()
    formatter.dateFormat = "HH:mm:ss"
    formatter.locale = Locale(identifier: "en_US_POSIX")
    return formatter.string(from: Date())
  }

  /// A line that stays (above the live status on a terminal).
  package func note(_ line: String, verboseOnly: Bool = false) {
    guard verbosity != .quiet, !verboseOnly || verbosity == .verbose else { return }
    lock.withLock {
      clearStatus()
      write(live ? line : "[\(stamp())] \(line)")
    }
  }

  /// A cell starts; `secondsAfter` is the plan's estimate for the cells still to come.
  package func startCell(
    _ cell: Cell, number: Int, of total: Int, secondsAfter: Double, experiment: Experiment
  ) {
    lock.withLock {
      let point = cell.point.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
      cellLabel =
        "cell \(number)/\(total) \(cell.id) \(cell.modeLabel) rep \(cell.repetition)"
        + (point.isEmpty ? "" : " \(point)")
      cellStart = monotonicNow()
      cellSeconds = cell.estimatedSeconds
      remainingAfterCell = secondsAfter
      lastPhase = nil
      hosts = experiment.roleHosts.map(\.name)
    }
    note(lock.withLock { cellLabel } + ": started")
  }

  /// Lines drawn above the live status on a terminal (`run --live`: the running cell's
  /// plot), replaced at each call; ignored off a terminal.
  package func setPanel(_ lines: [String]) {
    lock.withLock { panel = lines }
  }

  /// Called a few times a second while a cell runs.
  package func tick(recorder: CellRecorder) {
    guard verbosity != .quiet else { return }
    let status = recorder.status()
    let p99 = recorder.runningP99Microseconds()
    lock.withLock {
      let elapsed = Double(monotonicNow() - cellStart) / 1e9
      let left = max(0, cellSeconds - elapsed) + remainingAfterCell
      let phase = status.phase?.rawValue ?? "starting"
      let p99Text = p99.map { String(format: "%.0f us", $0) } ?? "-"
      if live {
        clearStatus()
        var lines = panel
        lines += [
          "\(cellLabel) | \(phase) | \(PlanPrinter.duration(elapsed)) elapsed, "
            + "\(PlanPrinter.duration(left)) left | p99 \(p99Text)"
        ]
        if let measure = hosts.first {
          lines.append(
            "  \(measure) (measure): \(status.intervals) intervals, mode "
              + (status.modeApplied ? "applied" : "not applied"))
        }
        if hosts.count > 1 { lines.append("  \(hosts[1]) (noise): \(phase)") }
        write(lines.joined(separator: "\n"))
        drawnLines = lines.count
      } else {
        let now = monotonicNow()
        if status.phase != lastPhase || now - lastPlainStatus > 10_000_000_000 {
          lastPhase = status.phase
          lastPlainStatus = now
          write(
            "[\(stamp())] \(cellLabel): \(phase), \(status.intervals) intervals, p99 \(p99Text), "
              + "\(PlanPrinter.duration(left)) left")
        }
      }
    }
  }

  package func endCell(_ summary: CellSummary) {
    let p99 = PercentileKey(99).key
    let busy = summary.phases[PhaseSelection.busy.rawValue]?.wakeupPercentilesMicroseconds[p99]
    let all = summary.phases[PhaseSelection.all.rawValue]?.wakeupPercentilesMicroseconds[p99]
    var line = lock.withLock { cellLabel } + ": \(summary.status.rawValue)"
    if let busy { line += String(format: ", busy p99 %.0f us", busy) }
    if let all { line += String(format: ", all p99 %.0f us", all) }
    if !summary.reasons.isEmpty { line += " (" + summary.reasons.joined(separator: "; ") + ")" }
    note(line)
  }

  /// Erases the live status lines (call with the lock held).
  private func clearStatus() {
    guard live, drawnLines > 0 else { return }
    // Up one line and clear it, for each line drawn.
    write(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawnLines) + "\u{1B}[1A")
    drawnLines = 0
  }
}
