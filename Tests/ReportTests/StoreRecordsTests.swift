import Foundation
import Results
import Testing
import Vocabulary
import Workloads

@testable import Report

@Suite struct StoreRecordsTests {
  @Test func intervalRecordRoundTripsThroughJSONLines() throws {
    var wakeup = LatencyHistogram()
    wakeup.record(nanoseconds: 12_000, count: 3)
    let record = IntervalRecord(
      index: 4, startNanoseconds: 4_000_000_000, endNanoseconds: 5_000_000_000, phase: .busy,
      wakeup: SparseHistogram(pairs: wakeup.buckets), request: SparseHistogram(), rps: 1234.5,
      stealPercent: 12.5,
      stealSource: .host, noiseBusyPercent: 98, modeApplied: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let line = try encoder.encode(record)
    #expect(!line.contains(UInt8(ascii: "\n")))
    let back = try JSONDecoder().decode(IntervalRecord.self, from: line)
    #expect(back == record)
    // A stored bucket keeps the highest value equivalent to its samples (3 significant
    // digits): 12 000 ns is read back as 12 007 ns, the same HDR bucket.
    #expect(back.wakeup.value(atPercentile: 50) == 12_007)
    #expect(wakeup.hdr.valuesAreEquivalent(back.wakeup.value(atPercentile: 50), 12_000))
  }
}

@Suite struct ClosedListsInTheStoreTests {
  @Test func eventKindsAreTheDocumentedList() {
    #expect(
      EventKind.allCases.map(\.rawValue) == [
        "phase-edge", "noise-phase", "clock-offset", "mode-apply", "mode-restore", "evacuated",
        "governor", "governor-step", "preferred", "kernel-warning", "host-failed",
      ])
  }

  @Test func modeAndEventKindsKeepTheirJSON() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let mode = ModeRecord(id: "out-of-box", kind: .outOfBox, label: "Out of Box")
    let modeJSON = #"{"id":"out-of-box","kind":"out-of-box","label":"Out of Box"}"#
    #expect(String(decoding: try encoder.encode(mode), as: UTF8.self) == modeJSON)
    #expect(try JSONDecoder().decode(ModeRecord.self, from: Data(modeJSON.utf8)) == mode)
    let eventJSON = #"{"detail":"busy","host":"vm2","kind":"phase-edge","timeNanoseconds":5}"#
    let event = try JSONDecoder().decode(EventRecord.self, from: Data(eventJSON.utf8))
    #expect(event.kind == .phaseEdge)
    #expect(String(decoding: try encoder.encode(event), as: UTF8.self) == eventJSON)
  }
}

@Suite struct IntervalLinesTests {
  /// Lines the way the run engine writes them and the way a person might edit them:
  /// keys in another order, blanks, optional values null or absent, empty histograms.
  static let lines = [
    #"{"endNanoseconds":2000000000,"index":1,"modeApplied":true,"noiseBusyPercent":99,"#
      + #""phase":"busy","request":[[60031,2]],"rps":3980.5,"startNanoseconds":1000000000,"#
      + #""stealPercent":12.5,"stealSource":"host","wakeup":[[15007,3],[20015,1]]}"#,
    #"{"index":2,"startNanoseconds":2000000000,"endNanoseconds":3000000000,"phase":"idle","#
      + #""wakeup":[],"request":[],"rps":0,"stealPercent":null,"stealSource":"none","#
      + #""noiseBusyPercent":null,"modeApplied":false}"#,
    #"{ "modeApplied" : false, "index" : 3, "startNanoseconds" : 3000000000, "#
      + #""endNanoseconds" : 4000000000, "phase" : "transition", "wakeup" : [ [ 9, 1 ] ], "#
      + #""request" : [ ], "rps" : -1.5e-3, "stealSource" : "guest" }"#,
  ]

  @Test func fastPathAndJSONDecoderGiveTheSameRecords() throws {
    let data = Data((Self.lines.joined(separator: "\n") + "\n").utf8)
    let fast = try #require(IntervalLineParser.parse(data))
    let slow = try Self.lines.map {
      try JSONDecoder().decode(IntervalRecord.self, from: Data($0.utf8))
    }
    #expect(fast == slow)
    #expect(fast.map(\.index) == [1, 2, 3])
    #expect(fast.map(\.phase) == [.busy, .idle, .transition])
    #expect(fast.map(\.stealPercent) == [12.5, nil, nil])
    #expect(fast.map(\.noiseBusyPercent) == [99, nil, nil])
    #expect(fast.map(\.stealSource) == [.host, .none, .guest])
    #expect(fast.map(\.rps) == [3980.5, 0, -0.0015])
    #expect(fast[0].wakeup.values == [15007, 20015])
    #expect(fast[0].wakeup.counts == [3, 1])
    #expect(fast[1].wakeup.total == 0)
  }

  @Test func whatTheWriterWritesTheFastPathReads() throws {
    let records = try Self.lines.map {
      try JSONDecoder().decode(IntervalRecord.self, from: Data($0.utf8))
    }
    var data = Data()
    for record in records {
      data.append(try ResultsStore.encoder.encode(record))
      data.append(UInt8(ascii: "\n"))
    }
    #expect(IntervalLineParser.parse(data) == records)
  }

  @Test(arguments: [
    // JSONDecoder ignores a key it does not know; the fast path leaves such a line to it.
    #"{"index":1,"startNanoseconds":0,"endNanoseconds":1,"phase":"busy","wakeup":[],"#
      + #""request":[],"rps":1,"stealSource":"none","modeApplied":true,"extra":1}"#,
    // Two records on one line are not JSON lines.
    #"{"index":1,"startNanoseconds":0,"endNanoseconds":1,"phase":"busy","wakeup":[],"#
      + #""request":[],"rps":1,"stealSource":"none","modeApplied":true} {}"#,
    // `+1` is a Swift number but not a JSON one.
    #"{"index":1,"startNanoseconds":0,"endNanoseconds":1,"phase":"busy","wakeup":[],"#
      + #""request":[],"rps":+1,"stealSource":"none","modeApplied":true}"#,
  ])
  func otherShapesAreLeftToJSONDecoder(line: String) {
    #expect(IntervalLineParser.parse(Data((line + "\n").utf8)) == nil)
  }

  @Test func aRecordWithoutAJSONFormIsAnErrorNotASilentGap() throws {
    let folder = try CellWriterFolder("cellwriter")
    defer { folder.remove() }
    let (directory, writer) = (folder.directory, folder.writer)
    var record = try JSONDecoder().decode(IntervalRecord.self, from: Data(Self.lines[0].utf8))
    try writer.append(record)
    record.index = 2
    record.rps = .nan
    let error = try #require(throws: StoreError.self) { try writer.append(record) }
    #expect(
      error.description
        == "cannot store interval 2 in \(directory.path)/intervals.jsonl: 'rps' has no JSON "
        + "form (Unable to encode Double.nan directly in JSON.)")
    let event = EventRecord(
      timeNanoseconds: 1, host: "lpar1", kind: .modeApply, detail: "hotplug",
      milliseconds: .infinity)
    let eventError = try #require(throws: StoreError.self) { try writer.append(event) }
    #expect(
      eventError.description
        == "cannot store a mode-apply event in \(directory.path)/events.jsonl: 'milliseconds' "
        + "has no JSON form (Unable to encode Double.inf directly in JSON.)")
    let stored = try String(
      contentsOf: directory.appendingPathComponent("intervals.jsonl"), encoding: .utf8)
    #expect(stored.split(separator: "\n").count == 1)
  }
}

@Suite struct IntervalGapRecordsTests {
  /// A late interval's slot (negative in a warmup), missed intervals and the measure host's
  /// busy % read the same through the fast path and `JSONDecoder`; an older line without
  /// them reads as nil, not as zero gaps.
  @Test func slotsGapsAndBusyShareOneShape() throws {
    let lines = [
      #"{"index":0,"slot":-1,"missedIntervals":0,"startNanoseconds":0,"#
        + #""endNanoseconds":1000000000,"phase":"idle","wakeup":[],"request":[],"rps":5,"#
        + #""stealSource":"none","modeApplied":false,"measureBusyPercent":null}"#,
      #"{"index":1,"slot":0,"missedIntervals":2,"startNanoseconds":1000000000,"#
        + #""endNanoseconds":4200000000,"phase":"busy","wakeup":[[9,1]],"request":[],"rps":5,"#
        + #""stealSource":"none","modeApplied":false,"measureBusyPercent":97.5}"#,
      #"{"index":2,"startNanoseconds":4200000000,"endNanoseconds":5000000000,"#
        + #""phase":"busy","wakeup":[],"request":[],"rps":5,"stealSource":"none","#
        + #""modeApplied":false}"#,
    ]
    let data = Data((lines.joined(separator: "\n") + "\n").utf8)
    let fast = try #require(IntervalLineParser.parse(data))
    let slow = try lines.map {
      try JSONDecoder().decode(IntervalRecord.self, from: Data($0.utf8))
    }
    #expect(fast == slow)
    #expect(fast.map(\.slot) == [-1, 0, nil])
    #expect(fast.map(\.missedIntervals) == [0, 2, nil])
    #expect(fast.map(\.measureBusyPercent) == [nil, 97.5, nil])
    #expect(fast.map(\.coveredIntervals) == [1, 3, 1])
    #expect(abs(fast[1].requests - 16) < 1e-9)
  }
}
