import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

/// Gathers what the hosts report during one cell and writes it to the cell's files as it
/// arrives; at the end it turns it into phase-tagged intervals and a summary
/// (`CellRecorder+Summary.swift`). The steal and busy shares come from `StealLedger`.
package final class CellRecorder: @unchecked Sendable {
  package let cell: Cell
  package let writer: CellWriter
  package let measureHost: String
  package let noiseHost: String?
  /// Controller monotonic time at the cell's start; every stored time is relative to it.
  package let start: UInt64
  private var offsets: [String: ClockOffset]
  private let lock = NSLock()
  /// Every host's CPU samples and host-side steal, for the intervals' shares.
  let steal = StealLedger()

  package private(set) var intervals: [SchbenchInterval] = []
  /// Every interval so far merged, for the live p99.
  private var runningWakeup = LatencyHistogram()
  private var edges: [(time: UInt64, phase: Phase)] = []
  /// The noise host's phase reports, read under the lock.
  private(set) var phaseReports: [PhaseReport] = []
  /// Times (relative) at which the measure host's mode went on (true) or off (false).
  private var modeChanges: [(time: UInt64, applied: Bool)] = []
  package private(set) var reasons: [String] = []
  package private(set) var failure: String?
  package private(set) var workloadDone = false
  /// Workers per message thread as the measured host resolved them.
  package private(set) var workersPerMessageThread: Int?
  /// The measured workload's scheduler counters from its `workload-done`.
  package private(set) var workloadSched: WorkloadSchedCounters?

  package init(
    cell: Cell, writer: CellWriter, measureHost: String, noiseHost: String?, start: UInt64,
    offsets: [String: ClockOffset]
  ) {
    self.cell = cell
    self.writer = writer
    self.measureHost = measureHost
    self.noiseHost = noiseHost
    self.start = start
    self.offsets = offsets
  }

  /// Nanoseconds since the cell started, for a time on `host`'s monotonic clock.
  package func relative(host: String, _ time: UInt64) -> UInt64 {
    let controller = (offsets[host] ?? .zero).controllerTime(ofHost: time)
    return controller > start ? controller - start : 0
  }

  package func now() -> UInt64 {
    let time = monotonicNow()
    return time > start ? time - start : 0
  }

  func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }

  // MARK: Events

  package func handle(_ event: HostEvent, from host: String) {
    switch event {
    case .interval(let interval) where host == measureHost:
      guard !interval.warmup else { return }
      let index = locked {
        intervals.append(interval)
        runningWakeup.merge(interval.wakeup)
        return intervals.count - 1
      }
      // Stored at once, so a run killed mid-cell keeps it; `finish` rewrites the file with
      // the final tags. A line that cannot be stored is dealt with there.
      try? writer.append(
        record(
          index: index, interval,
          tagger: PhaseTagger(edges: locked { edges }, settleNanoseconds: 0),
          stealSource: provisionalStealSource()))
    case .workloadDone(let sched) where host == measureHost:
      locked {
        workloadDone = true
        workloadSched = sched
      }
    case .edge(let edge) where host == noiseHost:
      let time = relative(host: host, edge.monotonicNanoseconds)
      // After the last phase (`end`) the noise host rests: its intervals are idle.
      let phase: Phase = edge.phase == .busy ? .busy : .idle
      locked { edges.append((time, phase)) }
      let late = Double(edge.lateNanoseconds) / 1e6
      append(
        EventRecord(
          timeNanoseconds: time, host: host, kind: .phaseEdge,
          detail: edge.phase.rawValue, milliseconds: late))
    case .phase(let report) where host == noiseHost:
      locked { phaseReports.append(report) }
      append(
        EventRecord(
          timeNanoseconds: relative(host: host, report.endMonotonicNanoseconds), host: host,
          kind: .noisePhase,
          detail:
            "\(report.phase.rawValue) \(String(format: "%.1f", report.busyFraction * 100))% busy",
          milliseconds: Double(report.endMonotonicNanoseconds - report.startMonotonicNanoseconds)
            / 1e6))
    case .cpuSample(let time, let total, let perCPU):
      let relativeTime = relative(host: host, time)
      steal.addCPUSample(host: host, time: relativeTime, total: total)
      let rows = perCPU.sorted(by: { $0.key < $1.key }).map { cpu, times in
        CPUSampleRow(time: relativeTime, host: host, cpu: .cpu(cpu), times)
      }
      writer.append(rows + [CPUSampleRow(time: relativeTime, host: host, cpu: .all, total)])
    case .hostSteal(let time, let percent, let vcpus):
      let relativeTime = time > start ? time - start : 0
      steal.addHostSteal(host: host, time: relativeTime, percent: percent)
      writer.append(
        vcpus.enumerated().compactMap { vcpu, stat in
          stat.map {
            HostSideRow(
              timeNanoseconds: relativeTime, host: host, vcpu: vcpu,
              runNanoseconds: $0.runNanoseconds, waitNanoseconds: $0.waitNanoseconds)
          }
        })
    case .preferred(let event):
      append(
        EventRecord(
          timeNanoseconds: relative(host: host, event.monotonicNanoseconds), host: host,
          kind: .preferred, detail: "\(event.cpus.count) preferred",
          cpus: event.cpus.description))
    case .kernelWarning(let line):
      locked { reasons.append("\(host): kernel log: \(line)") }
      append(
        EventRecord(timeNanoseconds: now(), host: host, kind: .kernelWarning, detail: line))
    case .disconnected(let why):
      locked { failure = failure ?? "\(host): \(why)" }
      append(
        EventRecord(timeNanoseconds: now(), host: host, kind: .hostFailed, detail: why))
    default:
      break
    }
  }

  /// Records a mode change on `host` (the measure host when nil), with its timing;
  /// `timeline` says whether the intervals' mode tags follow it.
  package func recordMode(
    applied: Bool, modeID: String, timing: ModeChange, at time: UInt64, host: String? = nil,
    timeline: Bool = true
  ) {
    let host = host ?? measureHost
    if timeline { locked { modeChanges.append((time, applied)) } }
    append(
      EventRecord(
        timeNanoseconds: time, host: host, kind: applied ? .modeApply : .modeRestore,
        detail: "\(modeID): \(timing.detail)", milliseconds: timing.milliseconds))
    if let evacuation = timing.evacuationMilliseconds {
      append(
        EventRecord(
          timeNanoseconds: time, host: host, kind: .evacuated, detail: modeID,
          milliseconds: evacuation))
    }
    if !timing.verified {
      locked {
        reasons.append(
          "\(host): mode \(modeID) did not verify after \(applied ? "apply" : "restore"): "
            + timing.detail)
      }
    }
  }

  /// Wakeup p99 of the cell so far, in microseconds; nil before the first interval.
  package func runningP99Microseconds() -> Double? {
    locked {
      runningWakeup.count == 0
        ? nil : Double(runningWakeup.nanoseconds(atPercentile: 99)) / 1000
    }
  }

  /// Status of the cell so far for the progress display.
  package func status() -> (intervals: Int, phase: Phase?, modeApplied: Bool) {
    locked { (intervals.count, edges.last?.phase, modeChanges.last?.applied ?? false) }
  }

  /// The edges recorded so far, in arrival order.
  package func edgeList() -> [(time: UInt64, phase: Phase)] { locked { edges } }

  package func fail(_ reason: String) { locked { failure = failure ?? reason } }
  package func invalidate(_ reason: String) { locked { reasons.append(reason) } }
  package func recordWorkers(_ workers: Int?) { locked { workersPerMessageThread = workers } }

  /// Appends an event to the cell's events file; one that cannot be stored
  /// invalidates the cell rather than vanish from it.
  package func append(_ event: EventRecord) {
    do {
      try writer.append(event)
    } catch {
      invalidate("\(error)")
    }
  }

  package func modeApplied(at time: UInt64) -> Bool {
    locked { modeChanges.last(where: { $0.time <= time })?.applied ?? false }
  }

  /// The phases the noise host's edges began, in order of arrival.
  package func edgePhases() -> [Phase] { edgeList().map(\.phase) }

  // MARK: Steal of the measure host

  /// The measure host's steal % over the last `window` nanoseconds: from its own
  /// /proc/stat when its kernel accounts steal, else from the host side (QEMU threads).
  package func recentStealPercent(window: UInt64) -> Double? {
    let end = now()
    let from = end > window ? end - window : 0
    if guestReportsSteal(), let share = steal.cpuShare(host: measureHost, from: from, to: end) {
      return share.steal
    }
    return steal.hostStealPercent(host: measureHost, from: from, to: end)
  }

  /// Whether the measure host's kernel accounted any steal during the cell.
  package func guestReportsSteal() -> Bool {
    steal.accountsSteal(host: measureHost)
  }
}
