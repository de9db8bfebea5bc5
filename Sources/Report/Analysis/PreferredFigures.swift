import Foundation
import LinuxHost
import Results
import Vocabulary

/// Whose preferred set a timeline follows: the kernel's (`preferred` events, the agent's
/// readings of `/sys/devices/system/cpu/preferred`) or pvbench's own governor (the set
/// after each of its steps, in its `governor` and `governor-step` events).
public enum PreferredSource: String, Codable, Sendable, CaseIterable {
  case kernel
  case governor = "pvbench"
}

/// The number of preferred CPUs of the measure host over one cell, from one source: a step
/// function starting at the time of the first reading.
struct PreferredTimeline: Sendable, Equatable {
  struct Step: Sendable, Equatable {
    var time: UInt64
    var count: Int
  }

  var source: PreferredSource
  var steps: [Step]
  /// Every CPU preferred: the host's online CPUs when known, else the most seen.
  var all: Int

  /// The timeline of `source` in `events`, for `host` (every host when nil); nil when the
  /// cell holds no reading of it.
  init?(_ events: [EventRecord], source: PreferredSource, host: String?, online: Int?) {
    var steps: [Step] = []
    for event in events.sorted(by: { $0.timeNanoseconds < $1.timeNanoseconds })
    where host == nil || event.host == host {
      let text: String?
      switch source {
      case .kernel: text = event.kind == .preferred ? event.cpus : nil
      case .governor:
        text =
          event.kind == .governor || event.kind == .governorStep ? event.governor?.preferred : nil
      }
      guard let text, let set = CPUSet(parsing: text) else { continue }
      if steps.last?.count != set.count {
        steps.append(Step(time: event.timeNanoseconds, count: set.count))
      }
    }
    guard !steps.isEmpty else { return nil }
    self.source = source
    self.steps = steps
    all = max(online ?? 0, steps.map(\.count).max() ?? 0)
  }

  /// Changes that shrank the set (folds) and grew it (unfolds).
  var folds: Int { zip(steps, steps.dropFirst()).filter { $1.count < $0.count }.count }
  var unfolds: Int { zip(steps, steps.dropFirst()).filter { $1.count > $0.count }.count }
  /// The fewest CPUs preferred at any time.
  var fewest: Int { steps.map(\.count).min() ?? all }

  /// The preferred count at `time` (all before the first reading).
  func count(at time: UInt64) -> Int { steps.last { $0.time <= time }?.count ?? all }

  /// Nanoseconds of `[from, to)` during which fewer than all CPUs were preferred.
  func foldedNanoseconds(from: UInt64, to: UInt64) -> Double {
    var total = 0.0
    for (index, step) in steps.enumerated() where step.count < all {
      let stepEnd = index + 1 < steps.count ? steps[index + 1].time : UInt64.max
      let start = max(step.time, from)
      let stop = min(stepEnd, to)
      if stop > start { total += Double(stop - start) }
    }
    return total
  }
}

/// What one source's preferred set did in one cell: folds per minute and the time spent
/// folded in the noise host's busy and idle phases.
struct PreferredCellFigures: Sendable, Equatable {
  var source: PreferredSource
  var folds: Int
  var minutes: Double
  var fewest: Int
  var all: Int
  var busySeconds: Double
  var foldedBusySeconds: Double
  var idleSeconds: Double
  var foldedIdleSeconds: Double

  /// The figures of every source with a timeline in `cell`.
  static func of(_ cell: StoredCell, host: HostRecord?) -> [PreferredCellFigures] {
    let online = host.flatMap { CPUSet(parsing: $0.cpusOnline) }?.count
    let events = cell.events.sorted { $0.timeNanoseconds < $1.timeNanoseconds }
    let end = max(
      cell.intervals.map(\.endNanoseconds).max() ?? 0, events.last?.timeNanoseconds ?? 0)
    let edges = events.filter { $0.kind == .phaseEdge }
    return PreferredSource.allCases.compactMap { source in
      guard
        let timeline = PreferredTimeline(
          events, source: source, host: host?.name, online: online)
      else { return nil }
      var figures = PreferredCellFigures(
        source: source, folds: timeline.folds, minutes: Double(end) / 60e9,
        fewest: timeline.fewest, all: timeline.all, busySeconds: 0, foldedBusySeconds: 0,
        idleSeconds: 0, foldedIdleSeconds: 0)
      for (index, edge) in edges.enumerated() {
        let from = edge.timeNanoseconds
        let until = max(from, index + 1 < edges.count ? edges[index + 1].timeNanoseconds : end)
        let seconds = Double(until - from) / 1e9
        let folded = timeline.foldedNanoseconds(from: from, to: until) / 1e9
        // `end` (after the last phase the noise host rests) counts as idle.
        if edge.detail == Phase.busy.rawValue {
          figures.busySeconds += seconds
          figures.foldedBusySeconds += folded
        } else {
          figures.idleSeconds += seconds
          figures.foldedIdleSeconds += folded
        }
      }
      return figures
    }
  }
}

/// The preferred set of one source for one mode at one sweep point, over its valid cells.
public struct PreferredSummary: Codable, Sendable, Equatable {
  public var key: GroupKey
  public var label: String
  public var source: PreferredSource
  public var cells: Int
  /// Median over the cells of folds (steps that shrank the set) per minute.
  public var foldsPerMinute: Double
  /// The fewest CPUs preferred in any cell, of `all`.
  public var fewest: Int
  public var all: Int
  /// Share (0–1) of the noise host's busy and idle time with fewer than all CPUs
  /// preferred; nil without such time.
  public var foldedBusy: Double?
  public var foldedIdle: Double?
  /// The kernel's pushes off non-preferred CPUs (`nr_migrations_cpu_non_preferred` of the
  /// workload's threads), median over the cells that have it; nil when none has.
  public var pushes: Double?
  /// Why there is no push count, from the first cell that says (kernel source only).
  public var pushNote: String?

  init(key: GroupKey, label: String, figures: [PreferredCellFigures], pushes: [PreferredPushRecord])
  {
    self.key = key
    self.label = label
    source = figures.first?.source ?? .kernel
    cells = figures.count
    foldsPerMinute = Statistics.median(
      figures.map { $0.minutes > 0 ? Double($0.folds) / $0.minutes : 0 })
    fewest = figures.map(\.fewest).min() ?? 0
    all = figures.map(\.all).max() ?? 0
    let busy = figures.reduce(0) { $0 + $1.busySeconds }
    let idle = figures.reduce(0) { $0 + $1.idleSeconds }
    foldedBusy = busy > 0 ? figures.reduce(0) { $0 + $1.foldedBusySeconds } / busy : nil
    foldedIdle = idle > 0 ? figures.reduce(0) { $0 + $1.foldedIdleSeconds } / idle : nil
    let counts = pushes.compactMap(\.nonPreferredMigrations).map(Double.init)
    self.pushes = source == .kernel && !counts.isEmpty ? Statistics.median(counts) : nil
    pushNote =
      source == .kernel && counts.isEmpty
      ? pushes.first?.sentence : nil
  }
}

extension RunAnalysis {
  /// One summary per group and source with a preferred-set timeline, in mode order, then
  /// point order, the kernel's before pvbench's.
  static func preferredSummaries(
    byKey: [GroupKey: [CellDigest]], labels: [String: String], points: [[String: String]],
    modes: [String]
  ) -> [PreferredSummary] {
    var summaries: [PreferredSummary] = []
    for (key, cells) in byKey {
      let sorted = cells.sorted { $0.id < $1.id }
      for source in PreferredSource.allCases {
        let figures = sorted.flatMap(\.preferred).filter { $0.source == source }
        guard !figures.isEmpty else { continue }
        summaries.append(
          PreferredSummary(
            key: key, label: labels[key.modeID] ?? key.modeID, figures: figures,
            pushes: sorted.compactMap(\.summary.preferredPushes)))
      }
    }
    let order = Dictionary(
      points.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let modeOrder = Dictionary(
      modes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let sourceOrder = Dictionary(
      uniqueKeysWithValues: PreferredSource.allCases.enumerated().map { ($1, $0) })
    return summaries.sorted {
      (modeOrder[$0.key.modeID] ?? 0, order[$0.key.point] ?? 0, sourceOrder[$0.source] ?? 0)
        < (modeOrder[$1.key.modeID] ?? 0, order[$1.key.point] ?? 0, sourceOrder[$1.source] ?? 0)
    }
  }
}
