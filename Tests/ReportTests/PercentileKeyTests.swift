import Foundation
import Testing
import Vocabulary

@Suite struct PercentileKeyTests {
  @Test(arguments: [
    (50.0, "50.0", "50.0th", "p50"),
    (90.0, "90.0", "90.0th", "p90"),
    (99.0, "99.0", "99.0th", "p99"),
    (99.9, "99.9", "99.9th", "p99.9"),
    (99.99, "99.99", "99.99th", "p99.99"),
    (99.05, "99.05", "99.05th", "p99.05"),
    (100.0, "100.0", "100.0th", "p100"),
    (92.5, "92.5", "92.5th", "p92.5"),
    (0.0, "0.0", "0.0th", "p0"),
  ])
  func keyLabelAndName(percentile: Double, key: String, label: String, name: String) {
    let value = PercentileKey(percentile)
    #expect(value.key == key)
    #expect(value.label == label)
    #expect(value.name == name)
  }

  @Test func keysAndLabelsParseBack() {
    #expect(PercentileKey(key: "99.99")?.value == 99.99)
    #expect(PercentileKey(key: "99.9th")?.value == 99.9)
    #expect(PercentileKey(key: "p99") == nil)
    #expect(PercentileKey(key: "nan") == nil)
  }

  @Test func codesAsItsKeyText() throws {
    let data = try JSONEncoder().encode([PercentileKey(99.99), PercentileKey(50)])
    #expect(String(decoding: data, as: UTF8.self) == #"["99.99","50.0"]"#)
    #expect(
      try JSONDecoder().decode([PercentileKey].self, from: data) == [
        PercentileKey(99.99), PercentileKey(50),
      ])
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode([PercentileKey].self, from: Data(#"["many"]"#.utf8))
    }
  }
}
