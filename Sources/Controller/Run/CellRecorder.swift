import Experiments
import Foundation
import LinuxHost
import Results
import Vocabulary
import Workloads

/// Gathers what the hosts report during one cell, writes it to the cell's files as it
/// arrives, and turns it into phase-tagged intervals and a summary at the end.
package final class CellRecorder: @unchecked Sendable {
  package let cell: Cell
  package let writer: CellWriter
  package let measureHost: String
  package let noiseHost: String?
  /// Controller monotonic time at the cell's start; every stored time is relative to it.
  package let start: UInt64
  private var offsets: [String: ClockOffset]
  private let lock = NSLock()

  package private(set) var intervals: [SchbenchInterval] = []
  /// Every interval so far merged, for the live p99.
  private var runningWakeup = LatencyHistogram()
  private var edges: [(time: UInt64, phase: Phase)] = []
  private var phaseReports: [PhaseReport] = []
  private var cpuSamples: [String: [(time: UInt64, total: CPUTimes)]] = [:]
  /// Host-side steal samples of each qemu guest, by host name.
  private var hostSteal: [String: [(time: UInt64, percent: Double)]] = [:]
  /// Times (relative) at which the measure host's mode went on (true) or off (false).
  private var modeChanges: [(time: UInt64, applied: Bool)] = []
  package private(set) var reasons: [String] = []
  package private(set) var failure: String?
  package private(set) var workloadDone = false
  /// Workers per message thread as the measured host resolved them.
  package private(set) var workersPerMessageThread: Int?

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

  private func locked<T>(_ body: () -> T) -> T {
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
    case .workloadDone where host == measureHost:
      locked { workloadDone = true }
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
      locked { cpuSamples[host, default: []].append((relativeTime, total)) }
      for (cpu, times) in perCPU.sorted(by: { $0.key < $1.key }) {
        writer.appendSample(Self.csv(relativeTime, host, "cpu\(cpu)", times))
      }
      writer.appendSample(Self.csv(relativeTime, host, "all", total))
    case .hostSteal(let time, let percent, let vcpus):
      let relativeTime = time > start ? time - start : 0
      locked { hostSteal[host, default: []].append((relativeTime, percent)) }
      writer.appendHostSide(
        vcpus.enumerated().compactMap { vcpu, stat in
          stat.map { "\(relativeTime),\(host),\(vcpu),\($0.runNanoseconds),\($0.waitNanoseconds)" }
        })
    case .governor(let time, let detail, let avoided):
      // A controller time: no host offset applies.
      append(
        EventRecord(
          timeNanoseconds: time > start ? time - start : 0, host: host, kind: .governor,
          detail: detail, cpus: CPUSet.format(avoided)))
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

  package static func csv(_ time: UInt64, _ host: String, _ cpu: String, _ t: CPUTimes) -> String {
    "\(time),\(host),\(cpu),\(t.user),\(t.nice),\(t.system),\(t.idle),\(t.iowait),\(t.irq),"
      + "\(t.softirq),\(t.steal)"
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

  /// Appends an event to the cell's `events.jsonl`; one that cannot be stored
  /// invalidates the cell rather than vanish from it.
  package func append(_ event: EventRecord) {
    do {
      try writer.append(event)
    } catch {
      invalidate("\(error)")
    }
  }

  // MARK: Results

  /// Steal and busy % of `host` between two relative times, from its `/proc/stat` samples.
  package func cpuShare(host: String, from: UInt64, to: UInt64) -> (steal: Double, busy: Double)? {
    let samples = locked { cpuSamples[host] ?? [] }
    guard let first = samples.last(where: { $0.time <= from }) ?? samples.first,
      let last = samples.first(where: { $0.time >= to }) ?? samples.last,
      last.time > first.time
    else { return nil }
    let delta = last.total.delta(since: first.total)
    guard delta.total > 0 else { return nil }
    return (delta.stealFraction * 100, delta.busyFraction * 100)
  }

  /// The measure host's host-side steal % between two relative times (only its own vCPU
  /// threads: every guest's sampler reports to the same recorder).
  package func hostStealPercent(from: UInt64, to: UInt64) -> Double? {
    let values = locked {
      (hostSteal[measureHost] ?? []).filter { $0.time > from && $0.time <= to }.map(\.percent)
    }
    guard !values.isEmpty else { return nil }
    return values.reduce(0, +) / Double(values.count)
  }

  package func modeApplied(at time: UInt64) -> Bool {
    locked { modeChanges.last(where: { $0.time <= time })?.applied ?? false }
  }

  /// The measure host's steal % over the last `window` nanoseconds: from its own
  /// /proc/stat when its kernel accounts steal, else from the host side (QEMU threads).
  package func recentStealPercent(window: UInt64) -> Double? {
    let end = now()
    let from = end > window ? end - window : 0
    if guestReportsSteal(), let share = cpuShare(host: measureHost, from: from, to: end) {
      return share.steal
    }
    return hostStealPercent(from: from, to: end)
  }

  /// Whether the measure host's kernel accounted any steal during the cell.
  package func guestReportsSteal() -> Bool {
    let samples = locked { cpuSamples[measureHost] ?? [] }
    guard let first = samples.first, let last = samples.last else { return false }
    return last.total.steal > first.total.steal
  }

  /// One interval as `intervals.jsonl` stores it, tagged with what is known now.
  private func record(
    index: Int, _ interval: SchbenchInterval, tagger: PhaseTagger, stealSource: StealSource
  ) -> IntervalRecord {
    let start = relative(host: measureHost, interval.startMonotonicNanoseconds)
    let end = relative(host: measureHost, interval.endMonotonicNanoseconds)
    let steal: Double? =
      switch stealSource {
      case .guest: cpuShare(host: measureHost, from: start, to: end)?.steal
      case .host: hostStealPercent(from: start, to: end)
      case .none: nil
      }
    return IntervalRecord(
      index: index, startNanoseconds: start, endNanoseconds: end,
      phase: tagger.phase(start: start, end: end), wakeup: SparseHistogram(interval.wakeup),
      request: SparseHistogram(interval.request), rps: interval.rps, stealPercent: steal,
      stealSource: stealSource,
      noiseBusyPercent: noiseHost.flatMap { cpuShare(host: $0, from: start, to: end)?.busy },
      modeApplied: modeApplied(at: start + (end - start) / 2), slot: interval.slot,
      missedIntervals: interval.missedIntervals,
      measureBusyPercent: cpuShare(host: measureHost, from: start, to: end)?.busy)
  }

  /// The steal source as far as the cell has got (the final one is chosen in `finish`).
  private func provisionalStealSource() -> StealSource {
    guestReportsSteal() ? .guest : locked { hostSteal[measureHost] == nil } ? .none : .host
  }

  /// Tags, stores and summarises the intervals; checks the validity gates.
  package func finish(
    status requested: CellStatus, settle: DurationValue, stealAccounting: Bool,
    percentiles: [Double], busyGate: Double?
  ) throws -> CellSummary {
    let tagger = PhaseTagger(
      edges: locked { edges }, settleNanoseconds: settle.nanoseconds)
    let useGuestSteal = stealAccounting && guestReportsSteal()
    let hasHostSteal = locked { hostSteal[measureHost] != nil }
    let stealSource: StealSource = useGuestSteal ? .guest : hasHostSteal ? .host : .none
    var records: [IntervalRecord] = []
    for (index, interval) in locked({ intervals }).enumerated() {
      let record = record(index: index, interval, tagger: tagger, stealSource: stealSource)
      // An interval that cannot be stored (a NaN rps) invalidates the cell, and stays out
      // of the summary so that cell.json describes what intervals.jsonl holds.
      do {
        _ = try writer.line(record)
        records.append(record)
      } catch {
        invalidate("\(error); the cell's intervals are incomplete")
      }
    }
    do { try writer.replaceIntervals(records) } catch {
      invalidate("\(error); the cell's intervals are incomplete")
    }

    var reasons = locked { self.reasons }
    for report in locked({ phaseReports }) where report.phase == .busy {
      if let busyGate, report.busyFraction < busyGate {
        reasons.append(
          "\(noiseHost ?? "noise"): busy phase \(report.cycle) reached "
            + "\(String(format: "%.0f", report.busyFraction * 100))% busy, under the "
            + "\(String(format: "%.0f", busyGate * 100))% gate")
      }
    }
    if records.isEmpty && requested == .complete {
      reasons.append("\(measureHost): the workload reported no intervals")
    }
    var status = requested
    if let failure = locked({ self.failure }) {
      status = .failed
      reasons.insert(failure, at: 0)
    } else if status == .complete && !reasons.isEmpty {
      status = .invalid
    }

    var phases: [String: PhaseSummary] = [:]
    for phase in Phase.allCases {
      phases[phase.rawValue] = Self.summarise(
        records.filter { $0.phase == phase }, percentiles: percentiles)
    }
    phases[PhaseSelection.all.rawValue] = Self.summarise(records, percentiles: percentiles)
    let summary = CellSummary(
      id: cell.id, modeID: cell.modeID,
      point: Dictionary(uniqueKeysWithValues: cell.point.map { ($0.key, $0.value) }),
      repetition: cell.repetition, status: status, reasons: reasons,
      startedAt: Timestamps.iso(Timestamps.wall(ofMonotonic: start)),
      endedAt: Timestamps.iso(Date()), phases: phases, stealSource: stealSource,
      settleMilliseconds: Int(settle.nanoseconds / 1_000_000),
      workersPerMessageThread: locked { workersPerMessageThread })
    try writer.finish(summary)
    return summary
  }

  package static func summarise(_ records: [IntervalRecord], percentiles: [Double]) -> PhaseSummary
  {
    let wakeup = SparseHistogram.merged(records.map(\.wakeup))
    let request = SparseHistogram.merged(records.map(\.request))
    func table(_ histogram: SparseHistogram) -> [String: Double] {
      guard histogram.total > 0 else { return [:] }
      var result: [String: Double] = [:]
      for percentile in percentiles {
        result[PercentileKey(percentile).key] =
          Double(histogram.value(atPercentile: percentile)) / 1000
      }
      return result
    }
    let steal = records.compactMap(\.stealPercent)
    let busy = records.compactMap(\.noiseBusyPercent)
    return PhaseSummary(
      intervals: records.count, gaps: records.reduce(0) { $0 + ($1.missedIntervals ?? 0) },
      wakeupSamples: wakeup.total,
      wakeupPercentilesMicroseconds: table(wakeup), requestPercentilesMicroseconds: table(request),
      averageRPS: records.isEmpty ? 0 : records.map(\.rps).reduce(0, +) / Double(records.count),
      stealPercent: steal.isEmpty ? nil : steal.reduce(0, +) / Double(steal.count),
      noiseBusyPercent: busy.isEmpty ? nil : busy.reduce(0, +) / Double(busy.count))
  }
}

package enum Timestamps {
  /// The wall-clock moment of a controller monotonic time.
  package static func wall(ofMonotonic time: UInt64) -> Date {
    let now = monotonicNow()
    return Date().addingTimeInterval(-Double(Int64(now) - Int64(time)) / 1e9)
  }

  package static func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }
}

extension SparseHistogram {
  /// The results format's form of a workload's histogram: its non-empty buckets.
  init(_ histogram: LatencyHistogram) {
    self.init(pairs: histogram.buckets)
  }
}

extension CellRecorder {
  /// The phases the noise host's edges began, in order of arrival.
  package func edgePhases() -> [Phase] { edgeList().map(\.phase) }
}
