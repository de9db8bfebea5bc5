import Foundation
import Results
import Vocabulary
import Workloads

@testable import Report

/// Builds results stores on disk from synthetic histograms with known percentiles.
struct SyntheticStore {
  /// One cell to write.
  struct Cell {
    var id: String
    var modeID: String
    var point: [String: String] = [:]
    var repetition: Int
    var status: CellStatus = .complete
    var reasons: [String] = []
    /// Busy intervals: each holds `busySamples(interval)` in µs.
    var busy: (Int) -> [UInt64]
    var idle: (Int) -> [UInt64] = { _ in Array(1...100).map { UInt64($0) / 2 + 1 } }
    var intervals = 6
    var rps: Double = 1000
    var steal: Double? = 12.5
    var writeSummary = true
    /// The phase the busy intervals are tagged with: `.transition` makes a cell whose busy
    /// phase lies wholly inside the settle window.
    var busyPhase: Phase = .busy
    var settleMilliseconds = 500
    /// Missed intervals by record index (busy records are even): a late snapshot spans
    /// `1 + missed` seconds. Every record carries its count unless `legacy`.
    var missed: [Int: Int] = [:]
    /// Write records as stores before gap counting did (no slot, no missed intervals).
    var legacy = false
    /// Busy % of the measure host's CPUs in busy intervals (idle ones get half of it).
    var measureBusy: Double?
    /// Events written after the synthetic mode applies (phase edges, governor decisions).
    var extraEvents: [EventRecord] = []
  }

  static let modes = [
    ModeRecord(id: "out-of-box", kind: .outOfBox, label: "Out of Box"),
    ModeRecord(id: "hotplug", kind: .hotplug, label: "cpu_hotplug"),
    ModeRecord(id: "paravirt", kind: .paravirt, label: "cpu_paravirt"),
  ]

  /// 1…100 µs scaled by `factor`: p50 = 50·f, p90 = 90·f, p99 = 99·f, p99.9 = 100·f.
  static func ramp(_ factor: UInt64) -> (Int) -> [UInt64] {
    { _ in (1...100).map { UInt64($0) * factor } }
  }

  static func manifest(
    runID: String = "run-1", cells: [Cell], sweepKeys: [String] = [], repetitions: Int = 3,
    expect: ExpectRecord? = nil, kernel: String = "6.1.0-56-cloud-amd64",
    modes: [ModeRecord] = modes
  ) -> RunManifest {
    RunManifest(
      pvbenchVersion: "0.1.0", experimentName: "synthetic", runID: runID,
      commandLine: ["pvbench", "run", "experiments/synthetic.yaml"],
      startedAt: "2026-11-24T12:00:00Z", endedAt: "2026-11-24T12:30:00Z",
      hosts: [
        HostRecord(
          name: "lpar1", role: "measure", transport: "qemu", kernelRelease: kernel,
          kernelCmdline: "console=ttyS0", cpusPresent: "0-3", cpusOnline: "0-3", cores: 4,
          threadsPerCore: 1, entitled: 2, interfaces: ["hotplug"], stealAccounting: true),
        HostRecord(
          name: "lpar2", role: "noise", transport: "qemu", kernelRelease: kernel,
          kernelCmdline: "console=ttyS0", cpusPresent: "0-3", cpusOnline: "0-3", cores: 4,
          threadsPerCore: 1, entitled: 2, interfaces: ["hotplug"], stealAccounting: true),
      ],
      modes: modes, plannedCells: cells.map(\.id),
      scheduleDescription: "busy 10s / idle 10s, \(repetitions) repetitions",
      sweepKeys: sweepKeys, repetitions: repetitions, expect: expect)
  }

  /// Three modes × `repetitions`, mode k's busy samples = ramp(f_k) with f = 1, 2, 4.
  static func coverLetterCells(repetitions: Int = 3) -> [Cell] {
    var cells: [Cell] = []
    for (index, mode) in modes.enumerated() {
      for repetition in 1...repetitions {
        cells.append(
          Cell(
            id: "\(mode.id)-r\(repetition)", modeID: mode.id, repetition: repetition,
            busy: ramp([1, 2, 4][index]), rps: 1000 * Double(index + 1)))
      }
    }
    return cells
  }

  /// Writes a run folder under a fresh temporary directory and returns it.
  @discardableResult
  static func write(
    _ cells: [Cell], manifest: RunManifest? = nil, in parent: URL? = nil
  ) throws -> URL {
    let base =
      parent
      ?? FileManager.default.temporaryDirectory.appendingPathComponent(
        "pvbench-report-\(UUID().uuidString)")
    let manifest = manifest ?? Self.manifest(cells: cells)
    let run = base.appendingPathComponent(manifest.runID)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    try FileManager.default.createDirectory(
      at: run.appendingPathComponent("cells"), withIntermediateDirectories: true)
    try encoder.encode(manifest).write(to: run.appendingPathComponent("manifest.json"))
    for cell in cells {
      let folder = run.appendingPathComponent("cells/\(cell.id)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      var lines = Data()
      var events = Data()
      var busyHistogram = LatencyHistogram()
      var time: UInt64 = 0
      var slot = 0
      for index in 0..<(cell.intervals * 2) {
        let missed = cell.missed[index] ?? 0
        let busy = index % 2 == 0
        var wakeup = LatencyHistogram()
        var request = LatencyHistogram()
        for micros in busy ? cell.busy(index / 2) : cell.idle(index / 2) {
          wakeup.record(nanoseconds: micros * 1000)
          request.record(nanoseconds: micros * 10_000)
        }
        if busy { busyHistogram.merge(wakeup) }
        if busy && index % 4 == 0 {
          events.append(
            try encoder.encode(
              EventRecord(
                timeNanoseconds: time, host: "lpar1", kind: .modeApply, detail: cell.modeID,
                milliseconds: 20)))
          events.append(UInt8(ascii: "\n"))
        }
        let record = IntervalRecord(
          index: index, startNanoseconds: time,
          endNanoseconds: time + UInt64(1 + missed) * 1_000_000_000,
          phase: busy ? cell.busyPhase : .idle, wakeup: SparseHistogram(pairs: wakeup.buckets),
          request: SparseHistogram(pairs: request.buckets), rps: cell.rps,
          stealPercent: busy ? cell.steal : cell.steal.map { $0 / 5 }, stealSource: .host,
          noiseBusyPercent: busy ? 99 : 1, modeApplied: busy, slot: cell.legacy ? nil : slot,
          missedIntervals: cell.legacy ? nil : missed,
          measureBusyPercent: cell.measureBusy.map { busy ? $0 : $0 / 2 })
        lines.append(try encoder.encode(record))
        lines.append(UInt8(ascii: "\n"))
        time += UInt64(1 + missed) * 1_000_000_000
        slot += 1 + missed
      }
      for event in cell.extraEvents {
        events.append(try encoder.encode(event))
        events.append(UInt8(ascii: "\n"))
      }
      try lines.write(to: folder.appendingPathComponent("intervals.jsonl"))
      try events.write(to: folder.appendingPathComponent("events.jsonl"))
      guard cell.writeSummary else { continue }
      let summary = CellSummary(
        id: cell.id, modeID: cell.modeID, point: cell.point, repetition: cell.repetition,
        status: cell.status, reasons: cell.reasons, startedAt: "2026-11-24T12:00:00Z",
        endedAt: "2026-11-24T12:01:00Z",
        phases: [
          "busy": PhaseSummary(
            intervals: cell.intervals, wakeupSamples: busyHistogram.count,
            wakeupPercentilesMicroseconds: [:], requestPercentilesMicroseconds: [:],
            averageRPS: cell.rps)
        ], stealSource: .host, settleMilliseconds: cell.settleMilliseconds)
      try encoder.encode(summary).write(to: folder.appendingPathComponent("cell.json"))
    }
    return run
  }

  /// Removes the temporary parent of a run folder.
  static func remove(_ run: URL) {
    try? FileManager.default.removeItem(at: run.deletingLastPathComponent())
  }
}
