import Foundation
import Testing

@testable import Workloads

/// schbench's histogram and table arithmetic, checked against output captured from upstream
/// schbench (masoncl/schbench 24e32b8) on this project's machine: `Fixtures/`.
@Suite struct SchbenchTableTests {
  /// Values below 512 µs have a bucket each and print as themselves.
  @Test func smallValuesAreExact() {
    for value: UInt32 in [0, 1, 2, 255, 256, 511] {
      #expect(SchbenchTable.value(of: SchbenchTable.bucket(of: value)) == value)
    }
  }

  /// In the captures, a run's largest sample is alone in the top bucket, so its 99.9th
  /// line prints that bucket's midpoint beside the exact max (e.g. `99.9th: 20576` with
  /// `max=20550`). Each (max, printed) pair here is read from a fixture.
  @Test(
    arguments: [
      (20550, 20576), (43460, 43456), (53927, 53952), (60372, 60352), (88027, 87936),
    ] as [(UInt32, UInt32)])
  func largeValuesPrintAsTheirBucketsMidpoint(sample: UInt32, printed: UInt32) {
    #expect(SchbenchTable.value(of: SchbenchTable.bucket(of: sample)) == printed)
  }

  /// The 50.0th line counts the samples after the (hidden) 20th percentile: 1…10 once each
  /// gives 20th = 2, 50th = 5 with 3 samples, 90th = 9 with 4, 99th and 99.9th = 10.
  @Test func fiftiethLineLeavesOutTheHidden20th() {
    var table = SchbenchTable()
    for value: UInt32 in 1...10 { table.record(value) }
    #expect(table.lines.map(\.value) == [2, 5, 9, 10, 10])
    #expect(table.lines.map(\.samples) == [2, 3, 4, 1, 0])
    let text = SchbenchReport.block(
      label: "Wakeup Latencies", unit: "usec", runtimeSeconds: 1, table: table,
      shown: SchbenchReport.latencyPercentiles, star: 99)
    #expect(text.contains("\t  50.0th: 5          (3 samples)\n"))
  }

  /// The 99.9th of a small count uses schbench's threshold in doubles: 99.9 / 100 × 1000
  /// is 999.0000000000001, so 999 samples of 10 and one of 20 put the 99.9th on the 20;
  /// with 998 + 1 the threshold 998.001 is also above 998, so again on the 20; with 9991
  /// tens and 9 twenties the threshold 9990.000000000002 is reached by the tens.
  @Test(arguments: [(999, 1, 20), (998, 1, 20), (9991, 9, 10)] as [(UInt64, UInt64, UInt64)])
  func threshold999OfSmallCounts(tens: UInt64, twenties: UInt64, expected: UInt64) {
    var table = SchbenchTable()
    table.record(10, count: tens)
    table.record(20, count: twenties)
    #expect(table.lines.last?.value == expected)
  }

  /// No samples: schbench still prints every line, all zeros (the `-R` fixture's wakeups).
  @Test func emptyTablePrintsZeros() throws {
    let text = SchbenchReport.latencyBlock(
      "Wakeup Latencies", histogram: LatencyHistogram(), runtimeSeconds: 3)
    let fixture = try Fixture.text("schbench-m1-t2-r3-R200.txt")
    #expect(fixture.hasPrefix(text))
  }

  /// RPS: the first sample is schbench's 0 at time 0; values are truncated; min skips a
  /// leading 0 (schbench replaces a 0 min by the next sample). Fixture: `20.0th: 0`,
  /// `50.0th: 152`, `90.0th: 231`, `min=152, max=231` over 0, 152.x, 231.x, 231.x.
  @Test func rpsTableFollowsSchbench() throws {
    let table = SchbenchTable(rpsSamples: [0, 152.9, 231.98, 231.2])
    let text = SchbenchReport.block(
      label: "RPS", unit: "requests", runtimeSeconds: 3, table: table,
      shown: SchbenchReport.rpsPercentiles, star: 50)
    let fixture = try Fixture.text("schbench-m1-t2-r3-i2.txt")
    #expect(fixture.contains(text))
  }

  /// A wakeup stamped after the worker read its clock (the `-R` pacer stamping the next
  /// request) is dropped, never recorded as a wrapped 1.8e19 ns.
  @Test func wakeupBeforeItsStampIsDropped() {
    #expect(SchbenchRun.wakeupLatency(wokeAt: 1_000, stamp: 1_001) == nil)
    #expect(SchbenchRun.wakeupLatency(wokeAt: 1_000, stamp: UInt64.max) == nil)
    #expect(SchbenchRun.wakeupLatency(wokeAt: 1_000, stamp: 1_000) == 0)
    #expect(SchbenchRun.wakeupLatency(wokeAt: 5_000, stamp: 1_000) == 4_000)
  }
}

/// Output captured from upstream schbench, stored as test data.
enum Fixture {
  static func text(_ name: String) throws -> String {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return try String(contentsOf: url, encoding: .utf8)
  }
}
