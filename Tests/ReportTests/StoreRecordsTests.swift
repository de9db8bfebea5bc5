import Foundation
import Testing
import Workloads

@testable import Report

@Suite struct StoreRecordsTests {
  @Test func intervalRecordRoundTripsThroughJSONLines() throws {
    var wakeup = LatencyHistogram()
    wakeup.record(nanoseconds: 12_000, count: 3)
    let record = IntervalRecord(
      index: 4, startNanoseconds: 4_000_000_000, endNanoseconds: 5_000_000_000, phase: .busy,
      wakeup: wakeup, request: LatencyHistogram(), rps: 1234.5, stealPercent: 12.5,
      stealSource: .host, noiseBusyPercent: 98, modeApplied: true)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let line = try encoder.encode(record)
    #expect(!line.contains(UInt8(ascii: "\n")))
    let back = try JSONDecoder().decode(IntervalRecord.self, from: line)
    #expect(back == record)
    // HDR reports the highest value equivalent to the bucket (3 significant digits).
    #expect(back.wakeup.hdr.valuesAreEquivalent(back.wakeup.nanoseconds(atPercentile: 50), 12_000))
  }
}
