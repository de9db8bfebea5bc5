import Foundation
import Vocabulary

/// A fast reader for `intervals.jsonl` lines, the bulk of a results store.
///
/// A run of 100 cells × 600 intervals holds a quarter of a gigabyte of
/// `[[value, count], …]` arrays; `JSONDecoder` needs over a minute for that,
/// this byte scanner about a second. It is a fast path of `IntervalRecord`'s
/// `Codable` form, not a second definition of it: keys come from
/// `IntervalRecord.CodingKeys`, so a key added there fails to compile here until
/// it is read. It accepts exactly the shape the run engine writes (any key order,
/// optional values absent or `null`, no string escapes in the values it reads); on
/// anything else it returns nil and the caller falls back to `JSONDecoder`, so an
/// unusual but valid file is still read correctly.
package struct IntervalLineParser {
  package enum Failure: Error { case unexpected }

  private let bytes: UnsafeBufferPointer<UInt8>
  private var position: Int

  /// Parses every line of `data`; nil when any line has another shape.
  package static func parse(_ data: Data) -> [IntervalRecord]? {
    data.withUnsafeBytes { raw -> [IntervalRecord]? in
      let buffer = raw.bindMemory(to: UInt8.self)
      var parser = IntervalLineParser(bytes: buffer, position: 0)
      var out: [IntervalRecord] = []
      do {
        while true {
          parser.skipSpace()
          if parser.position >= buffer.count { break }
          out.append(try parser.interval())
          try parser.endOfLine()
        }
      } catch {
        return nil
      }
      return out
    }
  }

  private var current: UInt8 { position < bytes.count ? bytes[position] : 0 }

  private mutating func skipSpace() {
    while position < bytes.count,
      bytes[position] == 0x20 || bytes[position] == 0x0A || bytes[position] == 0x0D
        || bytes[position] == 0x09
    {
      position += 1
    }
  }

  /// One record per line, as `RunStore.readLines` reads them: only blanks may follow it.
  private mutating func endOfLine() throws {
    while position < bytes.count,
      bytes[position] == 0x20 || bytes[position] == 0x09
        || bytes[position] == 0x0D
    {
      position += 1
    }
    guard position >= bytes.count || bytes[position] == 0x0A else { throw Failure.unexpected }
  }

  private mutating func expect(_ byte: UInt8) throws {
    skipSpace()
    guard current == byte else { throw Failure.unexpected }
    position += 1
  }

  private mutating func string() throws -> String {
    try expect(UInt8(ascii: "\""))
    let start = position
    while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
      if bytes[position] == UInt8(ascii: "\\") { throw Failure.unexpected }
      position += 1
    }
    guard position < bytes.count else { throw Failure.unexpected }
    let text = String(
      decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    position += 1
    return text
  }

  private mutating func unsigned() throws -> UInt64 {
    skipSpace()
    var value: UInt64 = 0
    let start = position
    while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 {
      let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times.addingReportingOverflow(UInt64(bytes[position] - 0x30))
      guard !overflow1, !overflow2 else { throw Failure.unexpected }
      value = sum
      position += 1
    }
    guard position > start else { throw Failure.unexpected }
    if current == UInt8(ascii: ".") || current == UInt8(ascii: "e") || current == UInt8(ascii: "E")
    {
      throw Failure.unexpected
    }
    return value
  }

  /// An integer that may be negative (a warmup slot).
  private mutating func signed() throws -> Int {
    skipSpace()
    let negative = current == UInt8(ascii: "-")
    if negative { position += 1 }
    guard let magnitude = Int(exactly: try unsigned()) else { throw Failure.unexpected }
    return negative ? -magnitude : magnitude
  }

  private mutating func double() throws -> Double {
    skipSpace()
    let start = position
    // `Double(_:)` also takes `+1` and `.5`, which are not JSON numbers.
    guard current == UInt8(ascii: "-") || (current >= 0x30 && current <= 0x39) else {
      throw Failure.unexpected
    }
    while position < bytes.count,
      let byte = Optional(bytes[position]),
      (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
    {
      position += 1
    }
    let text = String(
      decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    guard let value = Double(text) else { throw Failure.unexpected }
    return value
  }

  private mutating func literal(_ word: StaticString) -> Bool {
    skipSpace()
    let count = word.utf8CodeUnitCount
    guard position + count <= bytes.count else { return false }
    for offset in 0..<count where bytes[position + offset] != word.utf8Start[offset] {
      return false
    }
    position += count
    return true
  }

  private mutating func optionalDouble() throws -> Double? {
    literal("null") ? nil : try double()
  }

  private mutating func bool() throws -> Bool {
    if literal("true") { return true }
    if literal("false") { return false }
    throw Failure.unexpected
  }

  private mutating func histogram() throws -> SparseHistogram {
    try expect(UInt8(ascii: "["))
    var values: [UInt64] = []
    var counts: [UInt64] = []
    skipSpace()
    if current == UInt8(ascii: "]") {
      position += 1
      return SparseHistogram()
    }
    while true {
      try expect(UInt8(ascii: "["))
      values.append(try unsigned())
      try expect(UInt8(ascii: ","))
      counts.append(try unsigned())
      try expect(UInt8(ascii: "]"))
      skipSpace()
      if current == UInt8(ascii: ",") {
        position += 1
      } else {
        try expect(UInt8(ascii: "]"))
        break
      }
    }
    return SparseHistogram(values: values, counts: counts)
  }

  private typealias Key = IntervalRecord.CodingKeys

  /// Each key's UTF-8 bytes, so a key is matched without building a `String` per key.
  private static let keyBytes: [(key: Key, bytes: [UInt8])] = Key.allCases.map {
    ($0, Array($0.stringValue.utf8))
  }

  /// Reads a quoted key and finds it among `IntervalRecord`'s keys.
  private mutating func key() throws -> Key {
    try expect(UInt8(ascii: "\""))
    let start = position
    while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
      if bytes[position] == UInt8(ascii: "\\") { throw Failure.unexpected }
      position += 1
    }
    guard position < bytes.count else { throw Failure.unexpected }
    let text = UnsafeBufferPointer(rebasing: bytes[start..<position])
    position += 1
    // An unknown key is not an error for JSONDecoder: leave it to the fallback.
    guard let match = Self.keyBytes.first(where: { $0.bytes.elementsEqual(text) }) else {
      throw Failure.unexpected
    }
    return match.key
  }

  private mutating func interval() throws -> IntervalRecord {
    try expect(UInt8(ascii: "{"))
    var index: Int?
    var start: UInt64?
    var end: UInt64?
    var phase: Phase?
    var wakeup: SparseHistogram?
    var request: SparseHistogram?
    var rps: Double?
    var steal: Double?
    var stealSource: StealSource?
    var noise: Double?
    var applied: Bool?
    var slot: Int?
    var missed: Int?
    var measureBusy: Double?
    while true {
      let key = try key()
      try expect(UInt8(ascii: ":"))
      switch key {
      case .index: index = Int(exactly: try unsigned())
      case .startNanoseconds: start = try unsigned()
      case .endNanoseconds: end = try unsigned()
      case .phase: phase = Phase(rawValue: try string())
      case .wakeup: wakeup = try histogram()
      case .request: request = try histogram()
      case .rps: rps = try double()
      case .stealPercent: steal = try optionalDouble()
      case .stealSource: stealSource = StealSource(rawValue: try string())
      case .noiseBusyPercent: noise = try optionalDouble()
      case .modeApplied: applied = try bool()
      case .slot: slot = literal("null") ? nil : try signed()
      case .missedIntervals: missed = literal("null") ? nil : Int(exactly: try unsigned())
      case .measureBusyPercent: measureBusy = try optionalDouble()
      }
      skipSpace()
      if current == UInt8(ascii: ",") {
        position += 1
        continue
      }
      try expect(UInt8(ascii: "}"))
      break
    }
    // A missing required key or an unknown enum value: JSONDecoder names the problem.
    guard let index, let start, let end, let phase, let wakeup, let request, let rps,
      let stealSource, let applied
    else { throw Failure.unexpected }
    return IntervalRecord(
      index: index, startNanoseconds: start, endNanoseconds: end, phase: phase, wakeup: wakeup,
      request: request, rps: rps, stealPercent: steal, stealSource: stealSource,
      noiseBusyPercent: noise, modeApplied: applied, slot: slot, missedIntervals: missed,
      measureBusyPercent: measureBusy)
  }
}
