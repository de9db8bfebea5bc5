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
