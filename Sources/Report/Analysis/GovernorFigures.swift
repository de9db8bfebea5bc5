import Foundation
import LinuxHost
import Results
import Vocabulary

/// What pvbench's steal-time governor did in one cell, read from the cell's `governor` and
/// `phase-edge` events and its intervals: the figures reviewers ask of a governor.
struct GovernorCellFigures: Sendable, Equatable {
  /// Decisions (folds and unfolds) and the cell's length in minutes.
  var moves: Int
  var minutes: Double
  /// Busy edges of the noise host that found a core left to fold (any but the first
  /// housekeeping core), and seconds from each to
  /// the governor's first fold before the next edge (edges it never reacted to have none).
  var busyEdges: Int
  var busyReactions: [Double]
  /// Idle edges that found a core folded, and seconds from each to the first unfold before
  /// the next edge.
  var idleEdges: Int
  var idleReactions: [Double]
  /// Seconds the noise host was idle, and how many of them the governor kept a core folded.
  var idleSeconds: Double
  var foldedIdleSeconds: Double
  /// Busy intervals with a steal figure, and those in which the CPU the measure host could
  /// use fell below its entitlement.
  var busyIntervals: Int
  var belowEntitlement: Int

  /// Reads `cell`; `host` is the measure host's manifest record (online CPUs, SMT,
  /// entitlement). Nil when a decision of the cell does not say which CPUs it avoided (a
  /// store from before the events carried them).
  init?(_ cell: StoredCell, host: HostRecord?) {
    let events = cell.events.sorted { $0.timeNanoseconds < $1.timeNanoseconds }
    let decisions = events.filter { $0.kind == .governor }
    var steps: [(time: UInt64, avoided: Int)] = [(0, 0)]
    for decision in decisions {
      guard let cpus = decision.cpus, let set = CPUSet(parsing: cpus) else { return nil }
      steps.append((decision.timeNanoseconds, set.count))
    }
    let edges = events.filter { $0.kind == .phaseEdge }
    let end = max(
      cell.intervals.map(\.endNanoseconds).max() ?? 0, events.last?.timeNanoseconds ?? 0)

    // The most CPUs the governor may avoid: every core but the first housekeeping one (the
    // driver folds past the entitlement, down to one core), all threads of each.
    let maxAvoided = host.map { record in
      max(
        0,
        (CPUSet(parsing: record.cpusOnline)?.count ?? record.cores * record.threadsPerCore)
          - record.threadsPerCore)
    }
    moves = decisions.count
    minutes = Double(end) / 60e9
    busyEdges = 0
    idleEdges = 0
    busyReactions = []
    idleReactions = []
    idleSeconds = 0
    foldedIdleSeconds = 0
    for (index, edge) in edges.enumerated() {
      let until = index + 1 < edges.count ? edges[index + 1].timeNanoseconds : end
      let before = steps.last { $0.time <= edge.timeNanoseconds }?.avoided ?? 0
      if edge.detail == Phase.busy.rawValue {
        // An edge that finds every foldable core folded leaves nothing to react with.
        guard maxAvoided.map({ before < $0 }) ?? true else { continue }
        busyEdges += 1
        if let fold = Self.firstChange(steps, after: edge.timeNanoseconds, before: until, up: true)
        {
          busyReactions.append(Double(fold - edge.timeNanoseconds) / 1e9)
        }
      } else {
        // `idle`, or `end`: after its last phase the noise host rests.
        // Likewise an idle edge that finds nothing folded.
        let reacts = edge.detail == Phase.idle.rawValue && before > 0
        if reacts { idleEdges += 1 }
        if reacts,
          let unfold = Self.firstChange(
            steps, after: edge.timeNanoseconds, before: until, up: false)
        {
          idleReactions.append(Double(unfold - edge.timeNanoseconds) / 1e9)
        }
        idleSeconds += Double(until - min(until, edge.timeNanoseconds)) / 1e9
        foldedIdleSeconds +=
          Self.foldedTime(steps, from: edge.timeNanoseconds, to: until) / 1e9
      }
    }

    busyIntervals = 0
    belowEntitlement = 0
    let online = host.flatMap { CPUSet(parsing: $0.cpusOnline) }?.count
    let entitledCPUs = host.flatMap { record in record.entitled.map { $0 * record.threadsPerCore } }
    if let online, let entitledCPUs {
      for interval in cell.intervals where interval.phase == .busy {
        guard let steal = interval.stealPercent else { continue }
        busyIntervals += 1
        let middle = interval.startNanoseconds / 2 + interval.endNanoseconds / 2
        let avoided = steps.last { $0.time <= middle }?.avoided ?? 0
        let usable = Double(max(0, online - avoided)) * (1 - steal / 100)
        if usable < Double(entitledCPUs) { belowEntitlement += 1 }
      }
    }
  }

  /// The time of the first decision in `[after, before)` that folds (`up`) or unfolds.
  static func firstChange(
    _ steps: [(time: UInt64, avoided: Int)], after: UInt64, before: UInt64, up: Bool
  ) -> UInt64? {
    for index in steps.indices.dropFirst() {
      let step = steps[index]
      guard step.time >= after, step.time < before else { continue }
      let previous = steps[index - 1].avoided
      if up ? step.avoided > previous : step.avoided < previous { return step.time }
    }
    return nil
  }

  /// Nanoseconds of `[from, to)` during which at least one CPU was avoided.
  static func foldedTime(_ steps: [(time: UInt64, avoided: Int)], from: UInt64, to: UInt64)
    -> Double
  {
    var total = 0.0
    for (index, step) in steps.enumerated() where step.avoided > 0 {
      let stepEnd = index + 1 < steps.count ? steps[index + 1].time : UInt64.max
      let start = max(step.time, from)
      let stop = min(stepEnd, to)
      if stop > start { total += Double(stop - start) }
    }
    return total
  }
}

/// What one governor mode did at one sweep point, over its valid cells.
public struct GovernorSummary: Codable, Sendable, Equatable {
  public var key: GroupKey
  public var label: String
  public var cells: Int
  /// Median over the cells of decisions per minute: how much the governor oscillates.
  public var movesPerMinute: Double
  /// Median seconds from a busy edge to the first fold, over every edge it reacted to,
  /// and how many of the busy edges it reacted to; nil when it reacted to none.
  public var busyReactionSeconds: Double?
  public var busyReacted: Int
  public var busyEdges: Int
  /// The same from an idle edge to the first unfold.
  public var idleReactionSeconds: Double?
  public var idleReacted: Int
  public var idleEdges: Int
  /// Share (0–1) of the noise host's idle time in which a core stayed folded: capacity
  /// given up while the pool had it to spare. Nil without idle time.
  public var foldedWhileIdle: Double?
  /// Share (0–1) of busy intervals in which the measure host's usable CPU, its CPUs not
  /// avoided times (1 − steal), fell below its entitled CPUs. Nil without a steal figure
  /// or an entitlement.
  public var belowEntitlement: Double?
  public var busyIntervals: Int

  /// Pools `figures` of the cells of one group.
  init(key: GroupKey, label: String, figures: [GovernorCellFigures]) {
    self.key = key
    self.label = label
    cells = figures.count
    movesPerMinute = Statistics.median(
      figures.map { $0.minutes > 0 ? Double($0.moves) / $0.minutes : 0 })
    let busy = figures.flatMap(\.busyReactions)
    busyReactionSeconds = busy.isEmpty ? nil : Statistics.median(busy)
    busyReacted = busy.count
    busyEdges = figures.reduce(0) { $0 + $1.busyEdges }
    let idle = figures.flatMap(\.idleReactions)
    idleReactionSeconds = idle.isEmpty ? nil : Statistics.median(idle)
    idleReacted = idle.count
    idleEdges = figures.reduce(0) { $0 + $1.idleEdges }
    let idleSeconds = figures.reduce(0) { $0 + $1.idleSeconds }
    foldedWhileIdle =
      idleSeconds > 0 ? figures.reduce(0) { $0 + $1.foldedIdleSeconds } / idleSeconds : nil
    busyIntervals = figures.reduce(0) { $0 + $1.busyIntervals }
    belowEntitlement =
      busyIntervals > 0
      ? Double(figures.reduce(0) { $0 + $1.belowEntitlement }) / Double(busyIntervals) : nil
  }
}

extension RunAnalysis {
  /// One summary per governor group that has figures, in mode order then point order.
  static func governorSummaries(
    byKey: [GroupKey: [CellDigest]], labels: [String: String], points: [[String: String]],
    modes: [String]
  ) -> [GovernorSummary] {
    var summaries: [GovernorSummary] = []
    for (key, cells) in byKey {
      let figures = cells.sorted { $0.id < $1.id }.compactMap(\.governor)
      guard !figures.isEmpty else { continue }
      summaries.append(
        GovernorSummary(key: key, label: labels[key.modeID] ?? key.modeID, figures: figures))
    }
    let order = Dictionary(
      points.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    let modeOrder = Dictionary(
      modes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    return summaries.sorted {
      (modeOrder[$0.key.modeID] ?? 0, order[$0.key.point] ?? 0)
        < (modeOrder[$1.key.modeID] ?? 0, order[$1.key.point] ?? 0)
    }
  }
}
