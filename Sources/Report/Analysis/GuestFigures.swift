import Foundation
import LinuxHost
import Results
import Vocabulary

/// What each host of one cell received per phase: for a qemu guest, the CPU time its vCPU
/// threads got from this machine and their run-queue wait (`hostside.csv`); for every host,
/// how busy its own CPUs were (`samples.csv`). They answer what folding guests gain and
/// what the guests around them lose.
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
  var sums: [String: [String: Sums]]

  /// Reads the cell's sample files in `folder`; phases come from its `phase-edge` events,
  /// and a window that starts within `settleNanoseconds` of an edge or spans one counts in
  /// no phase (as the intervals' `transition`). Nil when the folder has neither file.
  init?(folder: URL, events: [EventRecord], settleNanoseconds: UInt64) {
    let edges = events.filter { $0.kind == .phaseEdge }
      .sorted { $0.timeNanoseconds < $1.timeNanoseconds }
      .map { (time: $0.timeNanoseconds, phase: $0.detail == Phase.busy.rawValue ? "busy" : "idle") }
    func phase(from start: UInt64, to end: UInt64) -> String? {
      guard let last = edges.last(where: { $0.time <= start }),
        start >= last.time + settleNanoseconds,
        !edges.contains(where: { $0.time > start && $0.time <= end })
      else { return nil }
      return last.phase
    }
    var sums: [String: [String: Sums]] = [:]
    func add(_ host: String, _ phase: String, _ body: (inout Sums) -> Void) {
      for key in [phase, PhaseSelection.all.rawValue] {
        body(&sums[host, default: [:]][key, default: Sums()])
      }
    }

    let hostSide = Self.lines(folder.appendingPathComponent("hostside.csv"))
    // Only the aggregate rows: an LPAR's per-CPU rows would be most of the file.
    let samples = Self.lines(folder.appendingPathComponent("samples.csv")) {
      $0.contains(",all,")
    }
    guard hostSide != nil || samples != nil else { return nil }

    // hostside.csv: time_ns,host,vcpu,run_ns,wait_ns (cumulative per vCPU thread).
    var previous: [String: (time: UInt64, run: UInt64, wait: UInt64)] = [:]
    var windows: [String: Set<UInt64>] = [:]
    for fields in hostSide ?? [] where fields.count == 5 {
      guard let time = UInt64(fields[0]), let run = UInt64(fields[3]),
        let wait = UInt64(fields[4])
      else { continue }
      let key = fields[1] + "/" + fields[2]
      defer { previous[key] = (time, run, wait) }
      guard let before = previous[key], time > before.time, run >= before.run,
        wait >= before.wait, let phase = phase(from: before.time, to: time)
      else { continue }
      let host = fields[1]
      let firstThread = windows[host, default: []].insert(time).inserted
      add(host, phase) { sums in
        sums.runNanoseconds += Double(run - before.run)
        sums.waitNanoseconds += Double(wait - before.wait)
        sums.threadWallNanoseconds += Double(time - before.time)
        if firstThread { sums.wallNanoseconds += Double(time - before.time) }
      }
    }

    // samples.csv: time_ns,host,cpu,user,nice,system,idle,iowait,irq,softirq,steal; the
    // `all` rows are the host's aggregate line.
    var last: [String: (time: UInt64, times: CPUTimes)] = [:]
    for fields in samples ?? [] where fields.count == 11 && fields[2] == "all" {
      let numbers = fields[3...].compactMap { UInt64($0) }
      guard let time = UInt64(fields[0]), numbers.count == 8 else { continue }
      let times = CPUTimes(
        user: numbers[0], nice: numbers[1], system: numbers[2], idle: numbers[3],
        iowait: numbers[4], irq: numbers[5], softirq: numbers[6], steal: numbers[7])
      let host = fields[1]
      defer { last[host] = (time, times) }
      guard let before = last[host], time > before.time,
        let phase = phase(from: before.time, to: time)
      else { continue }
      let delta = times.delta(since: before.times)
      add(host, phase) { sums in
        sums.busyTicks += Double(delta.busy)
        sums.totalTicks += Double(delta.total)
      }
    }
    self.sums = sums
  }

  /// The comma-separated fields of each line after the header that `keeping` accepts;
  /// nil for a missing file.
  static func lines(_ url: URL, keeping: (Substring) -> Bool = { _ in true }) -> [[String]]? {
    guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst()
      .filter(keeping).map {
        $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      }
  }
}

/// One host's figures in one phase, median over the valid cells of a group.
public struct GuestFigure: Codable, Sendable, Equatable {
  /// CPUs' worth of time this machine gave the guest's vCPU threads (1.0 = one host CPU).
  public var cpusReceived: Double?
  /// Mean run-queue wait of its vCPU threads, % of wall time (host-side steal).
  public var stealPercent: Double?
  /// Busy % of the host's own online CPUs (its /proc/stat).
  public var busyPercent: Double?
}

/// Every host's figures for one mode at one sweep point.
public struct GuestSummary: Codable, Sendable, Equatable {
  public var key: GroupKey
  public var cells: Int
  /// By host name.
  public var hosts: [String: GuestFigure]
}

extension RunAnalysis {
  /// One summary per group with sample files, figures of `phase` (medians over cells).
  static func guestSummaries(byKey: [GroupKey: [CellDigest]], phase: PhaseSelection)
    -> [GuestSummary]
  {
    var summaries: [GuestSummary] = []
    for (key, cells) in byKey {
      let figures = cells.compactMap(\.guests)
      guard !figures.isEmpty else { continue }
      var hosts: [String: GuestFigure] = [:]
      for name in Set(figures.flatMap(\.sums.keys)) {
        let sums = figures.compactMap { $0.sums[name]?[phase.rawValue] }
        func median(_ value: (GuestCellFigures.Sums) -> Double?) -> Double? {
          let values = sums.compactMap(value)
          return values.isEmpty ? nil : Statistics.median(values)
        }
        let figure = GuestFigure(
          cpusReceived: median {
            $0.wallNanoseconds > 0 ? $0.runNanoseconds / $0.wallNanoseconds : nil
          },
          stealPercent: median {
            $0.threadWallNanoseconds > 0 ? $0.waitNanoseconds / $0.threadWallNanoseconds * 100 : nil
          },
          busyPercent: median { $0.totalTicks > 0 ? $0.busyTicks / $0.totalTicks * 100 : nil })
        if figure.cpusReceived != nil || figure.busyPercent != nil { hosts[name] = figure }
      }
      if !hosts.isEmpty {
        summaries.append(GuestSummary(key: key, cells: figures.count, hosts: hosts))
      }
    }
    return summaries
  }
}
