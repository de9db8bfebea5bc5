import Foundation

/// A row of one of a cell's CSV files: the file's header, the row's line and its parser,
/// kept together so the writer and every reader agree on the columns.
package protocol CSVRow: Sendable, Equatable {
  /// The first line of the file: the column names, comma-separated.
  static var header: String { get }

  /// The row as the file holds it, without the newline.
  var line: String { get }

  /// Parses one line (without its newline).
  /// - Throws: `CSVLineError` saying which column is wrong and why.
  init(line: Substring) throws(CSVLineError)
}

/// A line of a results CSV file that does not parse, for a person to read.
package struct CSVLineError: Error, Sendable, Equatable, CustomStringConvertible {
  package var description: String

  package init(_ description: String) {
    self.description = description
  }

  /// A line with `found` fields where `expected` columns are.
  static func fieldCount(_ found: Int, expected: Int) -> CSVLineError {
    CSVLineError("\(found) fields, not the \(expected) columns of the header")
  }

  /// A field that is not what its column holds.
  static func field(_ value: Substring, column: String, wants: String) -> CSVLineError {
    CSVLineError("\(column) '\(value)' is not \(wants)")
  }
}

/// What a results CSV file held: the rows that parsed, and the lines that did not.
///
/// Readers use the rows and carry on past a damaged line, as they drop a torn JSON
/// line: a cell cut short by a crash may end in half a line, and a damaged file must not
/// stop the report.
package struct CSVRows<Row: CSVRow>: Sendable {
  /// A line that did not parse: its 1-based number in the file and the reason.
  package struct DamagedLine: Sendable, Equatable {
    package var number: Int
    package var reason: String

    package init(number: Int, reason: String) {
      self.number = number
      self.reason = reason
    }
  }

  package var rows: [Row]
  package var damaged: [DamagedLine]

  /// Parses `text`, a whole file: its first line is the header; empty lines are skipped.
  /// A first line other than `Row.header` is listed in `damaged` and the rows are read
  /// as the header's columns all the same. With `keeping`, only the lines it accepts are
  /// parsed (a cheap filter before the fields are split).
  package init(parsing text: String, keeping: ((Substring) -> Bool)? = nil) {
    rows = []
    damaged = []
    var number = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      if number == 1 {
        if line != Row.header {
          damaged.append(DamagedLine(number: 1, reason: "the header is not '\(Row.header)'"))
        }
        continue
      }
      guard !line.isEmpty, keeping?(line) ?? true else { continue }
      do {
        rows.append(try Row(line: line))
      } catch {
        damaged.append(DamagedLine(number: number, reason: error.description))
      }
    }
  }

  /// Reads the file at `url`; nil when there is none.
  package static func read(_ url: URL, keeping: ((Substring) -> Bool)? = nil) -> CSVRows? {
    guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
    return CSVRows(parsing: String(decoding: data, as: UTF8.self), keeping: keeping)
  }

  /// The whole file for `rows`: the header, then one line each.
  package static func text(_ rows: [Row]) -> String {
    Row.header + "\n" + lines(rows)
  }

  /// `rows` as lines to append, each ending in a newline.
  package static func lines(_ rows: [Row]) -> String {
    rows.map { $0.line + "\n" }.joined()
  }
}

/// The fields of a CSV line, checked against the header's column count.
struct CSVFields {
  let fields: [Substring]
  let columns: [String]

  init(_ line: Substring, columns: [String]) throws(CSVLineError) {
    fields = line.split(separator: ",", omittingEmptySubsequences: false)
    self.columns = columns
    guard fields.count == columns.count else {
      throw .fieldCount(fields.count, expected: columns.count)
    }
  }

  /// Field `index` as a counter (a non-negative integer).
  func counter(_ index: Int) throws(CSVLineError) -> UInt64 {
    guard let value = UInt64(fields[index]) else {
      throw .field(fields[index], column: columns[index], wants: "a non-negative integer")
    }
    return value
  }

  /// Field `index` as text, which must not be empty.
  func text(_ index: Int) throws(CSVLineError) -> String {
    guard !fields[index].isEmpty else {
      throw CSVLineError("\(columns[index]) is empty")
    }
    return String(fields[index])
  }
}
