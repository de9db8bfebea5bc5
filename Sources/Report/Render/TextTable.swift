/// A table rendered as fixed-width text (for email) or Markdown.
public struct TextTable: Sendable, Equatable {
  public var title: String
  public var header: [String]
  public var rows: [[String]]
  /// Lines printed under the table (method, sources).
  public var footnotes: [String]
  /// A list of long text (reasons): every column left-aligned, the last one wrapped.
  public var isList: Bool

  public init(
    title: String, header: [String], rows: [[String]], footnotes: [String] = [],
    isList: Bool = false
  ) {
    self.title = title
    self.header = header
    self.rows = rows
    self.footnotes = footnotes
    self.isList = isList
  }

  /// The list form: leading columns padded, the last wrapped under itself.
  func listText(width: Int) -> String {
    let leading = max(header.count - 1, 0)
    let widths = (0..<leading).map { column in
      ([header[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max()
        ?? 0
    }
    let indent = widths.reduce(0) { $0 + $1 + 2 }
    var lines = wrap(title, width: width)
    guard width - indent >= 24 else {
      // Leading columns too wide to leave room (long cell ids): each row's leading
      // cells on one line, its text wrapped under them, indented by four.
      for row in rows {
        lines.append(contentsOf: wrap(row.prefix(leading).joined(separator: "  "), width: width))
        let last = row.count > leading ? row[leading] : ""
        lines.append(
          contentsOf: wrap(last, width: width - 4).map {
            "    " + ($0.hasPrefix("  ") ? String($0.dropFirst(2)) : $0)
          })
      }
      for note in footnotes { lines.append(contentsOf: wrap(note, width: width)) }
      return lines.joined(separator: "\n") + "\n"
    }
    for row in [header] + rows {
      var prefix = ""
      for column in 0..<leading {
        prefix += pad(column < row.count ? row[column] : "", widths[column], right: false) + "  "
      }
      let last = row.count > leading ? row[leading] : ""
      var words = wrap(last, width: width - indent).map {
        $0.hasPrefix("  ") ? String($0.dropFirst(2)) : $0
      }
      if words.isEmpty { words = [""] }
      lines.append(trimTrailing(prefix + words[0]))
      for more in words.dropFirst() {
        lines.append(String(repeating: " ", count: indent) + more)
      }
    }
    for note in footnotes { lines.append(contentsOf: wrap(note, width: width)) }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Fixed-width text no wider than `width` columns where the cells allow it.
  ///
  /// The first column is left-aligned, the rest right-aligned, two spaces apart.
  /// When the columns do not fit, the table is split into several blocks that
  /// each repeat the first column, the way a reviewer would wrap it by hand.
  public func text(width: Int = 72) -> String {
    if isList { return listText(width: width) }
    let columns = header.count
    guard columns > 0 else { return "" }
    let natural = (0..<columns).map { column in
      ([header[column]] + rows.map { column < $0.count ? $0[column] : "" }).map(\.count).max()
        ?? 0
    }
    // No cell may push a line past `width`: the first column gets at most half of it, every
    // other column what is left beside the first, and a longer cell (a long mode label or
    // sweep value) is wrapped onto more lines of its row.
    let firstCap = max(1, min(natural[0], width / 2))
    let otherCap = max(1, width - firstCap - 2)
    let widths = natural.enumerated().map { $0 == 0 ? firstCap : min($1, otherCap) }
    var blocks: [[Int]] = []
    var current: [Int] = []
    var used = widths[0]
    for column in 1..<max(columns, 1) {
      if !current.isEmpty && used + 2 + widths[column] > width {
        blocks.append(current)
        current = []
        used = widths[0]
      }
      current.append(column)
      used += 2 + widths[column]
    }
    if !current.isEmpty || blocks.isEmpty { blocks.append(current) }
    var lines: [String] = wrap(title, width: width)
    for (number, block) in blocks.enumerated() {
      if number > 0 { lines.append("") }
      let render = { (cells: [String]) -> [String] in
        let used = [0] + block
        let pieces = used.map { column -> [String] in
          let cell = column < cells.count ? cells[column] : ""
          guard cell.count > widths[column] else { return [cell] }
          return wrap(cell, width: widths[column])
        }
        let height = pieces.map(\.count).max() ?? 1
        return (0..<height).map { lineIndex in
          var line = ""
          for (position, column) in used.enumerated() {
            let piece = lineIndex < pieces[position].count ? pieces[position][lineIndex] : ""
            line +=
              position == 0
              ? pad(piece, widths[0], right: false)
              : "  " + pad(piece, widths[column], right: true)
          }
          return trimTrailing(line)
        }
      }
      lines.append(contentsOf: render(header))
      for row in rows { lines.append(contentsOf: render(row)) }
    }
    for note in footnotes { lines.append(contentsOf: wrap(note, width: width)) }
    return lines.joined(separator: "\n") + "\n"
  }

  /// A GitHub-flavoured Markdown table, the title as a bold line above it.
  public func markdown() -> String {
    func escape(_ cell: String) -> String { cell.replacingOccurrences(of: "|", with: "\\|") }
    var lines = ["**\(title)**", ""]
    lines.append("| " + header.map(escape).joined(separator: " | ") + " |")
    lines.append("|" + header.indices.map { $0 == 0 ? "---|" : "---:|" }.joined())
    for row in rows { lines.append("| " + row.map(escape).joined(separator: " | ") + " |") }
    if !footnotes.isEmpty {
      lines.append("")
      lines.append(contentsOf: footnotes.map { "_\($0)_" })
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Pads `text` with spaces to `width`.
func pad(_ text: String, _ width: Int, right: Bool) -> String {
  let fill = String(repeating: " ", count: max(0, width - text.count))
  return right ? fill + text : text + fill
}

/// Removes trailing spaces.
func trimTrailing(_ line: String) -> String {
  var line = line
  while line.last == " " { line.removeLast() }
  return line
}

/// Wraps words to lines of at most `width` characters; continuation lines are indented by two.
///
/// A word longer than a line (a path, a long cell id) is cut across lines, so no line is ever
/// wider than `width`.
func wrap(_ text: String, width: Int) -> [String] {
  guard !text.isEmpty else { return [] }
  let width = max(width, 8)
  var lines: [String] = []
  var line = ""
  for word in text.split(separator: " ", omittingEmptySubsequences: false) {
    var word = Substring(word)
    if line.isEmpty {
      line = lines.isEmpty ? "" : "  "
    } else if line.count + 1 + word.count <= width {
      line += " " + word
      continue
    } else {
      lines.append(line)
      line = "  "
    }
    // Fill the rest of this line and whole lines with pieces of a word too long to fit.
    while line.count + word.count > width {
      let room = width - line.count
      lines.append(line + word.prefix(room))
      word = word.dropFirst(room)
      line = "  "
    }
    line += word
  }
  if !line.isEmpty && line != "  " { lines.append(line) }
  return lines
}
