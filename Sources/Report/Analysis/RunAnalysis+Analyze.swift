import Foundation
import Results
import Vocabulary

extension RunAnalysis {
  /// The percentiles of the nines curve (0 … 99.99).
  public static let ninesPercentiles: [Double] = [
    0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 92.5, 95, 96, 97, 98, 99, 99.2, 99.5, 99.7,
    99.8, 99.9, 99.95, 99.99,
  ]

  /// Analyses a run: groups valid cells by (mode, point), estimates every figure.
  ///
  /// Cells whose status is not `complete`, cell folders without a summary, and
  /// planned cells without a folder are listed in `excluded`, never averaged in.
  public static func analyze(
    _ store: RunStore, options: AnalysisOptions = AnalysisOptions(),
    timelineCell: String? = nil
  ) -> RunAnalysis {
    let manifest = store.manifest
    var (valid, excluded) = sortCells(of: store)
    let points = points(of: store)
    let (groupOf, groupSize) = groupKeys(of: valid)
    let results = digest(valid, of: store, options: options, groupOf: groupOf, groupSize: groupSize)
    let (byKey, unreadable) = collect(results, of: valid, groupOf: groupOf)
    excluded += unreadable
    let labels = Dictionary(
      manifest.modes.map { ($0.id, $0.label) }, uniquingKeysWith: { first, _ in first })
    let percentiles = manifest.reportPercentiles
    var usedMethods = Set<IntervalMethod>()
    var groups: [GroupStats] = []
    for key in orderedKeys(Array(byKey.keys), modes: manifest.modes, points: points) {
      let cells = byKey[key]!.sorted { $0.summary.repetition < $1.summary.repetition }
      let (group, methods) = groupStats(
        key, cells: cells, label: labels[key.modeID] ?? key.modeID, percentiles: percentiles,
        workload: manifest.workload, options: options)
      usedMethods.formUnion(methods)
      groups.append(group)
    }

    let timings = modeTimings(manifest.modes, digests: byKey.values.flatMap { $0 })
    let governor = Self.governorSummaries(
      byKey: byKey, labels: labels, points: points, modes: manifest.modes.map(\.id))
    let guests = Self.guestSummaries(byKey: byKey, phase: options.phase)
    let preferred = Self.preferredSummaries(
      byKey: byKey, labels: labels, points: points, modes: manifest.modes.map(\.id))

    var verdicts: [ExpectVerdict] = []
    if let expect = manifest.expect {
      verdicts = Self.verdicts(
        expect: expect, byKey: byKey, points: points, labels: labels, options: options)
    }

    let timeline = timelineCell ?? defaultTimelineCell(valid, modes: manifest.modes)
    return RunAnalysis(
      manifest: manifest, phase: options.phase, seed: options.seed,
      resamples: options.resamples, percentiles: percentiles, points: points, groups: groups,
      timings: timings, governor: governor, preferred: preferred, guests: guests,
      excluded: excluded, verdicts: verdicts,
      timelineCellID: timeline,
      notes: methodNotes(usedMethods, options: options))
  }

  /// Step 1: sorts the run's cells into the complete ones and the excluded ones (no
  /// a summary, a status other than `complete`, planned but never started).
  private static func sortCells(of store: RunStore) -> (
    valid: [StoredCell], excluded: [ExcludedCell]
  ) {
    var excluded: [ExcludedCell] = []
    var valid: [StoredCell] = []
    for cell in store.cells {
      guard let summary = cell.summary else {
        excluded.append(
          ExcludedCell(
            id: cell.id, status: "unfinished",
            reasons: ["no \(CellFiles.summaryName): the cell did not end (interrupted run?)"]))
        continue
      }
      if summary.status == .complete {
        valid.append(cell)
      } else {
        excluded.append(
          ExcludedCell(
            id: cell.id, status: summary.status.rawValue, reasons: summary.reasons,
            modeID: summary.modeID, point: summary.point))
      }
    }
    let present = Set(store.cells.map(\.id))
    for id in store.manifest.plannedCells where !present.contains(id) {
      excluded.append(
        ExcludedCell(id: id, status: "missing", reasons: ["planned but never started"]))
    }
    return (valid, excluded)
  }

  /// Step 2: the sweep points of the finished cells, in the order the cells first show them.
  private static func points(of store: RunStore) -> [[String: String]] {
    var points: [[String: String]] = []
    for cell in store.cells {
      guard let summary = cell.summary else { continue }
      if !points.contains(summary.point) { points.append(summary.point) }
    }
    return points
  }

  /// Step 3: each valid cell's group, and how many cells each group holds.
  private static func groupKeys(of valid: [StoredCell]) -> (
    groupOf: [String: GroupKey], groupSize: [GroupKey: Int]
  ) {
    var groupOf: [String: GroupKey] = [:]
    var groupSize: [GroupKey: Int] = [:]
    for cell in valid {
      let key = GroupKey(modeID: cell.summary!.modeID, point: cell.summary!.point)
      groupOf[cell.id] = key
      groupSize[key, default: 0] += 1
    }
    return (groupOf, groupSize)
  }

  /// Step 4: reads each valid cell's intervals (when the store left them on disk), reduces
  /// them to a digest and drops them, on every core: memory holds digests, not the run's
  /// intervals. The result at an index is the cell's at that index of `valid`.
  private static func digest(
    _ valid: [StoredCell], of store: RunStore, options: AnalysisOptions,
    groupOf: [String: GroupKey], groupSize: [GroupKey: Int]
  ) -> [Result<CellDigest, any Error>?] {
    let manifest = store.manifest
    var selections: Set<PhaseSelection> = [options.phase]
    if let expect = manifest.expect { selections.insert(expect.phase) }
    let digests = DigestResults(count: valid.count)
    let phases = selections
    let governorModes = Set(manifest.modes.filter { $0.kind == .governor }.map(\.id))
    let measureRecord = manifest.hosts.first { $0.role == "measure" }
    DispatchQueue.concurrentPerform(iterations: valid.count) { index in
      let cell = valid[index]
      let keep: Bool
      switch options.intervalChoice {
      case .intervals: keep = true
      case .repetitions: keep = false
      case .auto: keep = (groupSize[groupOf[cell.id]!] ?? 0) <= 2
      }
      do {
        let full = try store.withIntervals(cell)
        digests.set(
          index,
          .success(
            CellDigest(
              full, summary: cell.summary!, selections: phases, keepIntervals: keep,
              governorHost: governorModes.contains(cell.summary!.modeID)
                ? .some(measureRecord) : nil,
              folder: store.layout.cell(cell.id).directory, measureHost: measureRecord)))
      } catch {
        digests.set(index, .failure(error))
      }
    }
    return digests.values
  }

  /// Step 5: the digests by group, and the cells that could not be read as excluded cells,
  /// in the order of their ids.
  private static func collect(
    _ results: [Result<CellDigest, any Error>?], of valid: [StoredCell],
    groupOf: [String: GroupKey]
  ) -> (byKey: [GroupKey: [CellDigest]], unreadable: [ExcludedCell]) {
    var byKey: [GroupKey: [CellDigest]] = [:]
    var unreadable: [String: String] = [:]
    for (index, result) in results.enumerated() {
      switch result {
      case .success(let digest):
        byKey[groupOf[digest.id]!, default: []].append(digest)
      case .failure(let error):
        unreadable[valid[index].id] = "\(error)"
      case nil:
        unreadable[valid[index].id] = "not read"
      }
    }
    let excluded = unreadable.sorted(by: { $0.key < $1.key }).map { id, reason in
      ExcludedCell(
        id: id, status: "unreadable", reasons: ["\(CellFiles.intervalsName): \(reason)"])
    }
    return (byKey, excluded)
  }

  /// Step 6: the groups in the manifest's mode order, then the points' order.
  private static func orderedKeys(
    _ keys: [GroupKey], modes: [ModeRecord], points: [[String: String]]
  ) -> [GroupKey] {
    let modeOrder = Dictionary(
      modes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    return keys.sorted { lhs, rhs in
      let left = (modeOrder[lhs.modeID] ?? Int.max, points.firstIndex(of: lhs.point) ?? Int.max)
      let right = (modeOrder[rhs.modeID] ?? Int.max, points.firstIndex(of: rhs.point) ?? Int.max)
      return left != right ? left < right : lhs < rhs
    }
  }

  /// Step 7: one group's figures from its cells (sorted by repetition), and the interval
  /// methods its estimates used.
  private static func groupStats(
    _ key: GroupKey, cells: [CellDigest], label: String, percentiles: [Double],
    workload: WorkloadRecord?, options: AnalysisOptions
  ) -> (group: GroupStats, methods: Set<IntervalMethod>) {
    let seed = SeededGenerator.derive(options.seed, "\(key.modeID)|\(key.pointText)")
    let estimates = estimate(
      cells: cells, phase: options.phase, percentiles: percentiles, options: options,
      seed: seed)
    let methods = Set(
      (estimates.wakeup.compactMap { $0 } + [estimates.rps].compactMap { $0 }).map(\.method))
    var pooled: [SparseHistogram] = []
    var intervals = 0
    var counts: [CellCounts] = []
    for cell in cells {
      let phase = cell.phases[options.phase]!
      pooled.append(phase.wakeup)
      intervals += phase.intervals
      counts.append(
        CellCounts(
          id: cell.id, intervals: phase.intervals, wakeupSamples: phase.wakeup.total,
          requestSamples: phase.request.total, recordedIntervals: cell.recordedIntervals,
          expectedIntervals: workload?.expectedIntervals, gaps: phase.gaps,
          recordedGaps: cell.recordedGaps))
    }
    let gapCounts = counts.map(\.gaps)
    let busyMeans = cells.compactMap { $0.measureBusy[options.phase.rawValue] }
    let merged = SparseHistogram.merged(pooled)
    let wakeupEstimates = markThin(
      estimates.wakeup, percentiles: percentiles, counts: counts.map(\.wakeupSamples))
    let requestEstimates = markThin(
      estimates.request, percentiles: percentiles, counts: counts.map(\.requestSamples))
    // No sample, no curve: an empty histogram would read as 0 µs at every percentile.
    let nines =
      merged.total == 0
      ? []
      : ninesPercentiles.map {
        NinesPoint(
          percentile: $0, microseconds: Double(merged.value(atPercentile: $0)) / 1000)
      }
    let group = GroupStats(
      key: key, label: label, cellIDs: cells.map(\.id),
      intervals: intervals, wakeupSamples: merged.total, cells: counts,
      wakeup: wakeupEstimates, request: requestEstimates, rps: estimates.rps,
      noDataReason: merged.total > 0
        ? nil : noDataReason(cells, phase: options.phase, intervals: intervals),
      steal: steal(cells), nines: nines,
      gaps: gapCounts.contains(nil) ? nil : gapCounts.reduce(0) { $0 + $1! },
      requests: requests(cells, rate: requestRate(point: key.point, workload: workload)),
      measureBusyPercent: busyMeans.isEmpty ? nil : Statistics.median(busyMeans))
    return (group, methods)
  }

  /// Step 8: per mode and kind of timed event (apply, restore, evacuation), the median and
  /// the longest of its milliseconds over the digested cells.
  private static func modeTimings(_ modes: [ModeRecord], digests: [CellDigest])
    -> [ModeTimingSummary]
  {
    var timings: [ModeTimingSummary] = []
    for mode in modes {
      let cells = digests.filter { $0.summary.modeID == mode.id }.sorted { $0.id < $1.id }
      for kind in [EventKind.modeApply, .modeRestore, .evacuated] {
        let values = cells.flatMap { cell in
          cell.events.filter { $0.kind == kind }.compactMap(\.milliseconds)
        }
        guard !values.isEmpty else { continue }
        timings.append(
          ModeTimingSummary(
            modeID: mode.id, label: mode.label, kind: kind, count: values.count,
            medianMilliseconds: Statistics.median(values),
            maxMilliseconds: values.max() ?? 0))
      }
    }
    return timings
  }

  /// Step 9: the cell the timeline plot shows when none is asked for: the first valid cell
  /// of a mode that changes something, else the first valid cell.
  private static func defaultTimelineCell(_ valid: [StoredCell], modes: [ModeRecord])
    -> String?
  {
    valid.first { cell in
      modes.first { $0.id == cell.summary!.modeID }?.kind != .outOfBox
    }?.id ?? valid.first?.id
  }

  /// Step 10: the notes under the tables that say how the intervals of `methods` were made.
  private static func methodNotes(_ methods: Set<IntervalMethod>, options: AnalysisOptions)
    -> [String]
  {
    var notes: [String] = []
    if methods.contains(.repetitions) {
      notes.append(
        "Values are medians across repetitions. With n repetitions the interval is the "
          + "distribution-free order-statistic interval of the median: the range (min-max) "
          + "below six repetitions, which holds the median 50 % of the time for 2, 75 % for 3, "
          + "87.5 % for 4 and 93.8 % for 5; from six on, the narrowest one that holds it at "
          + "least 95 % of the time. Each table says which.")
    }
    if methods.contains(.intervals) {
      notes.append(
        "With one repetition the interval is a nominal 95 % moving-block bootstrap over the "
          + "\(options.phase.rawValue) intervals of the cell (\(options.resamples) resamples, "
          + "seed \(options.seed)), blocks as long as the intervals' autocorrelation asks; it "
          + "is within one run and leaves out run-to-run variation, and it covers less than "
          + "95 % when the intervals are strongly correlated (docs/benchmarks.md).")
    }
    if methods.contains(.single) {
      notes.append("One repetition: the interval is the single value (no spread measured).")
    }
    return notes
  }

  /// Wakeup and request percentiles (µs) and RPS of `cells` in `phase`.
  static func estimate(
    cells: [CellDigest], phase: PhaseSelection, percentiles: [Double], options: AnalysisOptions,
    seed: UInt64
  ) -> (wakeup: [Estimate?], request: [Estimate?], rps: Estimate?) {
    let perCell = cells.compactMap { $0.phases[phase] }.filter { $0.intervals > 0 }
    let useIntervals: Bool
    switch options.intervalChoice {
    case .auto: useIntervals = perCell.count < 2
    case .repetitions: useIntervals = false
    case .intervals: useIntervals = true
    }
    // The per-interval histograms are kept for groups that may need them; without them
    // (a larger group whose other cells hold no interval in the phase) the repetition
    // method gives the single value.
    if useIntervals, perCell.allSatisfy({ $0.intervalWakeup != nil }) {
      let none = percentiles.map { _ -> Estimate? in nil }
      let wakeup =
        IntervalBootstrap.percentileEstimates(
          cells: perCell.map { $0.intervalWakeup! }, percentiles: percentiles, scale: 1.0 / 1000,
          resamples: options.resamples, seed: SeededGenerator.derive(seed, "wakeup"))
        ?? none
      let request =
        IntervalBootstrap.percentileEstimates(
          cells: perCell.map { $0.intervalRequest! }, percentiles: percentiles,
          scale: 1.0 / 1000, resamples: options.resamples,
          seed: SeededGenerator.derive(seed, "request"))
        ?? none
      let rps = IntervalBootstrap.meanEstimate(
        cells: perCell.map { $0.intervalRPS! }, resamples: options.resamples,
        seed: SeededGenerator.derive(seed, "rps"))
      return (wakeup, request, rps)
    }
    // A cell without a sample in the phase has no percentile: it is left out, never a 0.
    let wakeupMerged = perCell.map(\.wakeup).filter { $0.total > 0 }
    let requestMerged = perCell.map(\.request).filter { $0.total > 0 }
    let wakeup = percentiles.map { p -> Estimate? in
      wakeupMerged.isEmpty
        ? nil
        : Statistics.medianInterval(wakeupMerged.map { Double($0.value(atPercentile: p)) / 1000 })
    }
    let request = percentiles.map { p -> Estimate? in
      requestMerged.isEmpty
        ? nil
        : Statistics.medianInterval(
          requestMerged.map { Double($0.value(atPercentile: p)) / 1000 })
    }
    let rpsValues = perCell.compactMap(\.meanRPS)
    let rps = rpsValues.isEmpty ? nil : Statistics.medianInterval(rpsValues)
    return (wakeup, request, rps)
  }

  /// The fewest samples that can hold a percentile: the 99.9th needs 1000 (one sample
  /// beyond it), the 99th 100, the 90th 10, the 50th 2.
  public static func requiredSamples(forPercentile percentile: Double) -> UInt64 {
    guard percentile < 100 else { return UInt64.max }
    // The epsilon keeps 100 / 0.1 (1000.00000000006 in floating point) at 1000.
    return UInt64(max(1, (100 / (100 - percentile) - 1e-9).rounded(.up)))
  }

  /// Marks each estimate whose every cell did not hold enough samples for its percentile.
  ///
  /// A cell without a sample is not in the estimate, so it does not make it thin; the
  /// fewest samples among the others decide.
  static func markThin(_ estimates: [Estimate?], percentiles: [Double], counts: [UInt64])
    -> [Estimate?]
  {
    let fewest = counts.filter { $0 > 0 }.min() ?? 0
    return zip(estimates, percentiles).map { estimate, percentile in
      guard var estimate else { return nil }
      estimate.tooFewSamples = fewest < requiredSamples(forPercentile: percentile)
      return estimate
    }
  }

  /// Why `cells` hold no wakeup sample in `phase`, as a clause for a note under a table.
  static func noDataReason(_ cells: [CellDigest], phase: PhaseSelection, intervals: Int)
    -> String
  {
    guard intervals == 0 else {
      return "\(intervals) \(phase.rawValue) interval\(intervals == 1 ? "" : "s") but no "
        + "wakeup sample (did the workers ever wake?)"
    }
    guard phase != .all else { return "no interval recorded" }
    let settles = Set(cells.map(\.summary.settleMilliseconds))
    guard settles.count == 1, let settle = settles.first, settle > 0 else {
      return "no \(phase.rawValue) interval outside the settle window after each edge"
    }
    return "no \(phase.rawValue) interval outside the \(Format.duration(milliseconds: settle)) "
      + "settle window"
  }

  /// The sweep key of schbench's `-R`.
  public static let rateKey = "measure.schbench.rps"

  /// The fixed request rate of the cells at `point`: the swept `-R`, else the manifest's;
  /// nil for schbench's closed loop.
  static func requestRate(point: [String: String], workload: WorkloadRecord?) -> Double? {
    if let text = point[rateKey] { return Double(text) }
    return workload?.requestsPerSecond.map(Double.init)
  }

  /// Requests expected at `rate` against requests done, per phase, summed over `cells`;
  /// empty without a rate.
  static func requests(_ cells: [CellDigest], rate: Double?) -> [RequestFigure] {
    guard let rate, rate > 0 else { return [] }
    return PhaseSelection.summaryKeys.compactMap { name in
      let figures = cells.compactMap { $0.requests[name] }
      guard !figures.isEmpty else { return nil }
      return RequestFigure(
        phase: name, expected: rate * figures.reduce(0) { $0 + $1.seconds },
        done: figures.reduce(0) { $0 + $1.done })
    }
  }

  /// Median across cells of each cell's mean steal %, per phase, with its source.
  static func steal(_ cells: [CellDigest]) -> [StealFigure] {
    let source =
      cells.compactMap { cell in
        cell.summary.stealSource != StealSource.none
          ? cell.summary.stealSource : cell.intervalStealSource
      }.first ?? .none
    return PhaseSelection.summaryKeys.map { name in
      let means = cells.compactMap { $0.steal[name] }
      return StealFigure(
        phase: name, percent: means.isEmpty ? nil : Statistics.median(means),
        source: means.isEmpty ? .none : source)
    }
  }

  static func verdicts(
    expect: ExpectRecord, byKey: [GroupKey: [CellDigest]], points: [[String: String]],
    labels: [String: String], options: AnalysisOptions
  ) -> [ExpectVerdict] {
    var verdicts: [ExpectVerdict] = []
    for modeID in expect.wakeupMicroseconds.keys.sorted() {
      // Keys are written by ExperimentDecoder; one that does not parse has no row.
      let published = expect.wakeupMicroseconds[modeID]!.compactMap { text, value in
        PercentileKey(key: text).map { (percentile: $0, microseconds: value) }
      }.sorted { $0.percentile < $1.percentile }
      // Published tables have no sweep: compare with the first point that has this mode.
      let point = points.first { byKey[GroupKey(modeID: modeID, point: $0)] != nil }
      let cells =
        (point.flatMap { byKey[GroupKey(modeID: modeID, point: $0)] } ?? []).sorted {
          $0.summary.repetition < $1.summary.repetition
        }
      let estimates =
        cells.isEmpty
        ? []
        : estimate(
          cells: cells, phase: expect.phase, percentiles: published.map(\.percentile.value),
          options: options, seed: SeededGenerator.derive(options.seed, "expect|\(modeID)")
        ).wakeup
      for (index, row) in published.enumerated() {
        let theirs = row.microseconds
        let ours: Estimate? = estimates.isEmpty ? nil : estimates[index]
        let difference = ours.map { theirs == 0 ? 0 : ($0.value - theirs) / theirs }
        verdicts.append(
          ExpectVerdict(
            modeID: modeID, label: labels[modeID] ?? modeID, percentile: row.percentile,
            published: theirs, ours: ours, difference: difference,
            reproduced: difference.map { abs($0) <= expect.tolerance } ?? false))
      }
    }
    return verdicts
  }
}

/// Per-index results of the concurrent digest, written under a lock.
final class DigestResults: @unchecked Sendable {
  private let lock = NSLock()
  private var slots: [Result<CellDigest, any Error>?]

  init(count: Int) { slots = Array(repeating: nil, count: count) }

  func set(_ index: Int, _ result: Result<CellDigest, any Error>) {
    lock.lock()
    slots[index] = result
    lock.unlock()
  }

  var values: [Result<CellDigest, any Error>?] {
    lock.lock()
    defer { lock.unlock() }
    return slots
  }
}
