import Controller
import Experiments
import Foundation
import LinuxHost
import Results
import Testing
import Vocabulary
import Workloads

@testable import Report

@Suite struct ControllerLogicTests {
  @Test func phaseTaggerMarksEdgesAndTheSettleWindow() {
    let second: UInt64 = 1_000_000_000
    let tagger = PhaseTagger(
      edges: [(0, .busy), (4 * second, .idle), (8 * second, .busy)],
      settleNanoseconds: second / 2)
    // Starts on an edge: still settling.
    #expect(tagger.phase(start: 0, end: second) == .transition)
    #expect(tagger.phase(start: second, end: 2 * second) == .busy)
    // An edge inside the interval.
    #expect(
      tagger.phase(start: 3 * second + second / 2, end: 4 * second + second / 2) == .transition)
    // Less than the settle window after an edge.
    #expect(tagger.phase(start: 4 * second + second / 4, end: 5 * second) == .transition)
    #expect(tagger.phase(start: 5 * second, end: 6 * second) == .idle)
    #expect(tagger.phase(start: 9 * second, end: 10 * second) == .busy)
    // Before any edge the noise host is idle.
    let late = PhaseTagger(edges: [(5 * second, .busy)], settleNanoseconds: 0)
    #expect(late.phase(start: 0, end: second) == .idle)
  }

  @Test func clockOffsetKeepsTheTightestRoundTrip() throws {
    // The host runs 1 s ahead; the round trips are 10, 2 and 6 µs wide.
    let ahead: UInt64 = 1_000_000_000
    let offset = try #require(
      ClockOffset.estimate([
        (sent: 100_000, host: 105_000 + ahead + 3_000, received: 110_000),
        (sent: 200_000, host: 201_000 + ahead, received: 202_000),
        (sent: 300_000, host: 303_000 + ahead - 2_000, received: 306_000),
      ]))
    #expect(offset.offsetNanoseconds == Int64(ahead))
    #expect(offset.uncertaintyNanoseconds == 1_000)
    #expect(offset.controllerTime(ofHost: 5_000 + ahead) == 5_000)
    #expect(ClockOffset.estimate([]) == nil)
  }
}

@Suite struct CellRecorderStorageTests {
  /// The keys of `SchbenchInterval`, to build one whose rps has no JSON form.
  struct IntervalFields: Encodable {
    var index: Int
    var slot: Int
    var missedIntervals = 0
    var startMonotonicNanoseconds: UInt64
    var endMonotonicNanoseconds: UInt64
    var wakeup = LatencyHistogram()
    var request = LatencyHistogram()
    var requests: UInt64 = 0
    var rps: Double
    var warmup = false
  }

  /// A recorder for cell `c1` (out-of-box) of measure host lpar1, writing into a fresh
  /// temporary folder the caller removes.
  static func recorder(noiseHost: String?) throws -> (URL, CellRecorder) {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("pvbench-recorder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let cell = Cell(
      id: "c1", modeID: "out-of-box", modeLabel: "Out of Box", point: [], repetition: 1,
      estimatedSeconds: 1, pointIndex: 0)
    let recorder = CellRecorder(
      cell: cell, writer: try CellWriter(directory: directory), measureHost: "lpar1",
      noiseHost: noiseHost, start: 0, offsets: [:])
    return (directory, recorder)
  }

  static func interval(_ index: Int, rps: Double) throws -> SchbenchInterval {
    let strategy = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: strategy.positiveInfinity, negativeInfinity: strategy.negativeInfinity,
      nan: strategy.nan)
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: strategy.positiveInfinity, negativeInfinity: strategy.negativeInfinity,
      nan: strategy.nan)
    let second: UInt64 = 1_000_000_000
    let fields = IntervalFields(
      index: index, slot: index, startMonotonicNanoseconds: UInt64(index + 1) * second,
      endMonotonicNanoseconds: UInt64(index + 2) * second, rps: rps)
    return try decoder.decode(SchbenchInterval.self, from: encoder.encode(fields))
  }

  @Test func anIntervalThatCannotBeStoredInvalidatesTheCell() throws {
    let (directory, recorder) = try Self.recorder(noiseHost: nil)
    defer { try? FileManager.default.removeItem(at: directory) }
    recorder.handle(.interval(try Self.interval(0, rps: 100)), from: "lpar1")
    recorder.handle(.interval(try Self.interval(1, rps: .nan)), from: "lpar1")
    recorder.handle(.interval(try Self.interval(2, rps: 300)), from: "lpar1")
    let summary = try recorder.finish(
      status: .complete, settle: DurationValue(nanoseconds: 0), stealAccounting: false,
      percentiles: [99], busyGate: 0)
    #expect(summary.status == .invalid)
    #expect(
      summary.reasons == [
        "cannot store interval 1 in \(directory.path)/intervals.jsonl: 'rps' has no JSON form "
          + "(Unable to encode Double.nan directly in JSON.); the cell's intervals are incomplete"
      ])
    #expect(summary.phases["all"]?.intervals == 2)
    #expect(summary.phases["all"]?.averageRPS == 200)
    let stored = try RunStore.readLines(
      IntervalRecord.self, url: directory.appendingPathComponent("intervals.jsonl"))
    #expect(stored.map(\.index) == [0, 2])
  }

  /// Every guest's host-side sampler reports to the same recorder: an interval's steal is
  /// the measure host's own (it once averaged every guest's), and each guest's vCPU
  /// threads land in `hostside.csv` under its name.
  @Test func hostSideStealIsTheMeasureHostsOwn() throws {
    let (directory, recorder) = try Self.recorder(noiseHost: "lpar2")
    defer { try? FileManager.default.removeItem(at: directory) }
    let second: UInt64 = 1_000_000_000
    let stat = SchedStat(runNanoseconds: 7, waitNanoseconds: 9, timeslices: 1)
    for time in [second + second / 2, 2 * second + second / 2] {
      recorder.handle(
        .hostSteal(controllerNanoseconds: time, percent: 10, vcpus: [stat, nil]), from: "lpar1")
      recorder.handle(
        .hostSteal(controllerNanoseconds: time, percent: 90, vcpus: [stat, stat]), from: "lpar2")
    }
    recorder.handle(.interval(try Self.interval(0, rps: 100)), from: "lpar1")
    recorder.handle(.interval(try Self.interval(1, rps: 100)), from: "lpar1")
    let summary = try recorder.finish(
      status: .complete, settle: DurationValue(nanoseconds: 0), stealAccounting: false,
      percentiles: [99], busyGate: nil)
    #expect(summary.stealSource == .host)
    let stored = try RunStore.readLines(
      IntervalRecord.self, url: directory.appendingPathComponent("intervals.jsonl"))
    #expect(stored.map(\.stealPercent) == [10, 10])
    let hostSide = try String(
      contentsOf: directory.appendingPathComponent("hostside.csv"), encoding: .utf8)
    #expect(
      hostSide == """
        time_ns,host,vcpu,run_ns,wait_ns
        1500000000,lpar1,0,7,9
        1500000000,lpar2,0,7,9
        1500000000,lpar2,1,7,9
        2500000000,lpar1,0,7,9
        2500000000,lpar2,0,7,9
        2500000000,lpar2,1,7,9

        """)
  }

  /// Each `/proc/stat` sample is stored as one row per CPU in CPU order, then the host's
  /// `all` row, at the time since the cell started; the rows read back as sent.
  @Test func cpuSamplesAreStoredPerCPUThenAll() throws {
    let (directory, recorder) = try Self.recorder(noiseHost: "lpar2")
    defer { try? FileManager.default.removeItem(at: directory) }
    let one = CPUTimes(
      user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8)
    let two = CPUTimes(user: 10, idle: 20, steal: 30)
    recorder.handle(
      .cpuSample(monotonicNanoseconds: 2_000_000_000, total: one + two, perCPU: [10: two, 2: one]),
      from: "lpar2")
    let samples = try String(
      contentsOf: directory.appendingPathComponent("samples.csv"), encoding: .utf8)
    #expect(
      samples == """
        time_ns,host,cpu,user,nice,system,idle,iowait,irq,softirq,steal
        2000000000,lpar2,cpu2,1,2,3,4,5,6,7,8
        2000000000,lpar2,cpu10,10,0,0,20,0,0,0,30
        2000000000,lpar2,all,11,2,3,24,5,6,7,38

        """)
    let rows = try #require(CellFiles(directory).readCPUSamples()).rows
    #expect(rows.map(\.cpu) == [.cpu(2), .cpu(10), .all])
  }

  /// A snapshot thread that slept from 2 s to 5.2 s: its interval keeps its real span,
  /// is tagged by it (an edge at 4 s falls inside: transition), and its two missed
  /// intervals are gaps of that phase in `intervals.jsonl` and `cell.json`.
  @Test func aLateSnapshotIsStoredWithItsSpanAndGaps() throws {
    let (directory, recorder) = try Self.recorder(noiseHost: "lpar2")
    defer { try? FileManager.default.removeItem(at: directory) }
    func edge(_ phase: String, at seconds: Double) throws -> PhaseEdge {
      let time = UInt64(seconds * 1e9)
      return try JSONDecoder().decode(
        PhaseEdge.self,
        from: Data(
          (#"{"phase":"\#(phase)","cycle":0,"scheduledMonotonicNanoseconds":\#(time),"#
            + #""monotonicNanoseconds":\#(time),"wallNanoseconds":\#(time)}"#).utf8))
    }
    recorder.handle(.edge(try edge("busy", at: 0.5)), from: "lpar2")
    recorder.handle(.edge(try edge("idle", at: 4)), from: "lpar2")
    let spans: [(slot: Int, missed: Int, from: Double, to: Double)] = [
      (0, 0, 1, 2), (1, 2, 2, 5.2), (4, 0, 5.2, 6),
    ]
    for (index, span) in spans.enumerated() {
      var interval = try Self.interval(index, rps: 10)
      interval.slot = span.slot
      interval.missedIntervals = span.missed
      interval.startMonotonicNanoseconds = UInt64(span.from * 1e9)
      interval.endMonotonicNanoseconds = UInt64(span.to * 1e9)
      recorder.handle(.interval(interval), from: "lpar1")
    }
    let summary = try recorder.finish(
      status: .complete, settle: DurationValue(nanoseconds: 0), stealAccounting: false,
      percentiles: [99], busyGate: 0)
    let stored = try RunStore.readLines(
      IntervalRecord.self, url: directory.appendingPathComponent("intervals.jsonl"))
    #expect(stored.map(\.slot) == [0, 1, 4])
    #expect(stored.map(\.missedIntervals) == [0, 2, 0])
    #expect(stored.map(\.phase) == [.busy, .transition, .idle])
    #expect(stored[1].startNanoseconds == 2_000_000_000)
    #expect(stored[1].endNanoseconds == 5_200_000_000)
    #expect(summary.phases["busy"]?.gaps == 0)
    #expect(summary.phases["transition"]?.gaps == 2)
    #expect(summary.phases["all"]?.gaps == 2)
    #expect(summary.phases["all"]?.intervals == 3)
  }

  @Test func summaryKeysKeepEveryDigitOfTheirPercentile() {
    let record = IntervalRecord(
      index: 0, startNanoseconds: 0, endNanoseconds: 1, phase: .busy,
      wakeup: SparseHistogram(values: [1000, 2000], counts: [9999, 1]),
      request: SparseHistogram(), rps: 1, stealPercent: nil, stealSource: .none,
      noiseBusyPercent: nil, modeApplied: false)
    let summary = CellRecorder.summarise([record], percentiles: [50, 99.9, 99.99, 99.995])
    // "%.1f" wrote 99.99 and 99.995 as "100.0", one overwriting the other.
    #expect(
      summary.wakeupPercentilesMicroseconds == [
        "50.0": 1, "99.9": 1, "99.99": 1, "99.995": 2,
      ])
  }
}
