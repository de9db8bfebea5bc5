import Foundation
import LinuxHost
import Results
import Vocabulary

/// What each host of one cell received per phase: for a qemu guest, the CPU time its vCPU
/// threads got from this machine and their run-queue wait (its `HostSideRow`s); for every
/// host, how busy its own CPUs were (its aggregate `CPUSampleRow`s). They answer what
/// folding guests gain and what the guests around them lose.
struct GuestCellFigures: Sendable, Equatable {
  /// Sums over the sampling windows that lie wholly in one phase.
  struct Sums: Sendable, Equatable {
    /// Run and wait time of every vCPU thread, and wall time summed per thread.
    var runNanoseconds: Double = 0
    var waitNanoseconds: Double = 0
    var threadWallNanoseconds: Double = 0
    /// Wall time of the windows (once, not per thread).
    var wallNanoseconds: Double = 0
    /// The guest's own /proc/stat ticks over the windows of its samples.
    var busyTicks: Double = 0
    var totalTicks: Double = 0
  }

  /// Per host name, per phase (`busy`, `idle`, and `all` for every tagged window).
  var sums: [String: [PhaseSelection: Sums]]

  /// Reads the cell's sample files in `folder`; phases come from its `phase-edge` events,
  /// and a window that starts within `settleNanoseconds` of an edge or spans one counts in
  /// no phase (as the intervals' `transition`). Nil when the folder has neither file.
  /// Lines the reader cannot parse are left out, as a torn line is.
  init?(folder: URL, events: [EventRecord], settleNanoseconds: UInt64) {
    // After the last phase (`end`) the noise host rests: it counts as idle.
    let edges = events.filter { $0.kind == .phaseEdge }
      .sorted { $0.timeNanoseconds < $1.timeNanoseconds }
      .map {
        (time: $0.timeNanoseconds, phase: $0.detail == Phase.busy.rawValue ? Phase.busy : .idle)
      }
    func phase(from start: UInt64, to end: UInt64) -> Phase? {
      guard let last = edges.last(where: { $0.time <= start }),
        start >= last.time + settleNanoseconds,
        !edges.contains(where: { $0.time > start && $0.time <= end })
      else { return nil }
      return last.phase
    }
    var sums: [String: [PhaseSelection: Sums]] = [:]
    func add(_ host: String, _ phase: Phase, _ body: (inout Sums) -> Void) {
      for selection in PhaseSelection.allCases where selection.includes(phase) {
        body(&sums[host, default: [:]][selection, default: Sums()])
      }
    }

    let files = CellFiles(folder)
    let hostSide = files.readHostSide()
    // Only the aggregate rows: an LPAR's per-CPU rows would be most of the file.
    let samples = files.readCPUSamples(aggregatesOnly: true)
    guard hostSide != nil || samples != nil else { return nil }

    // Run and wait are cumulative per vCPU thread.
    var previous: [String: HostSideRow] = [:]
    var windows: [String: Set<UInt64>] = [:]
    for row in hostSide?.rows ?? [] {
      let key = row.host + "/\(row.vcpu)"
      defer { previous[key] = row }
      guard let before = previous[key], row.timeNanoseconds > before.timeNanoseconds,
        row.runNanoseconds >= before.runNanoseconds,
        row.waitNanoseconds >= before.waitNanoseconds,
        let phase = phase(from: before.timeNanoseconds, to: row.timeNanoseconds)
      else { continue }
      let firstThread = windows[row.host, default: []].insert(row.timeNanoseconds).inserted
      let wall = Double(row.timeNanoseconds - before.timeNanoseconds)
      add(row.host, phase) { sums in
        sums.runNanoseconds += Double(row.runNanoseconds - before.runNanoseconds)
        sums.waitNanoseconds += Double(row.waitNanoseconds - before.waitNanoseconds)
        sums.threadWallNanoseconds += wall
        if firstThread { sums.wallNanoseconds += wall }
      }
    }

    // The `all` rows are each host's aggregate line.
    var last: [String: (time: UInt64, times: CPUTimes)] = [:]
    for row in samples?.rows ?? [] where row.cpu == .all {
      let times = CPUTimes(row)
      defer { last[row.host] = (row.timeNanoseconds, times) }
      guard let before = last[row.host], row.timeNanoseconds > before.time,
        let phase = phase(from: before.time, to: row.timeNanoseconds)
      else { continue }
      let delta = times.delta(since: before.times)
      add(row.host, phase) { sums in
        sums.busyTicks += Double(delta.busy)
        sums.totalTicks += Double(delta.total)
      }
    }
    self.sums = sums
  }
}

extension CPUTimes {
  /// The counters of a `CPUSampleRow`.
  init(_ row: CPUSampleRow) {
    self.init(
      user: row.user, nice: row.nice, system: row.system, idle: row.idle, iowait: row.iowait,
      irq: row.irq, softirq: row.softirq, steal: row.steal)
  }
}
