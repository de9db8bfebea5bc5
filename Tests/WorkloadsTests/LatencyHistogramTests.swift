import Foundation
import LinuxHost
import Testing

@testable import Workloads

@Suite struct LatencyHistogramTests {
  @Test func percentilesOfUniformDistribution() {
    var histogram = LatencyHistogram()
    for value in 1...10_000 { histogram.record(nanoseconds: UInt64(value) * 1_000) }
    #expect(histogram.count == 10_000)
    // Three significant digits: within 0.1 % of the exact answer.
    let p50 = Double(histogram.nanoseconds(atPercentile: 50))
    let p99 = Double(histogram.nanoseconds(atPercentile: 99))
    #expect(abs(p50 - 5_000_000) / 5_000_000 < 0.001)
    #expect(abs(p99 - 9_900_000) / 9_900_000 < 0.001)
    #expect(histogram.minNanoseconds == 1_000)
  }

  @Test func compactEncodingRoundTripsAndMerges() throws {
    var a = LatencyHistogram()
    var b = LatencyHistogram()
    for value in [300, 800, 15_000, 15_000, 4_000_000] as [UInt64] { a.record(nanoseconds: value) }
    for value in [250, 9_000_000] as [UInt64] { b.record(nanoseconds: value) }
    let data = try JSONEncoder().encode(a)
    let decoded = try JSONDecoder().decode(LatencyHistogram.self, from: data)
    #expect(decoded == a)
    #expect(String(decoding: data, as: UTF8.self).hasPrefix("[[300,1],"))
    var merged = decoded
    merged.merge(b)
    #expect(merged.count == 7)
    #expect(merged.minNanoseconds == 250)
    #expect(merged.nanoseconds(atPercentile: 100) >= 8_990_000)
  }
}
