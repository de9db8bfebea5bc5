/// One self-contained HTML page: set-up, tables, inline SVG figures; no external resources.
public struct HTMLReport: Sendable {
  public var renderer: ReportRenderer
  /// Each figure with its SVG text, or nil when it was not drawn.
  public var figures: [(Plot, String?)]
  /// Figures or series left out for want of data, one sentence each (as `pvbench report`
  /// prints them), so the page never silently shows less than the tables.
  public var skipped: [String]

  public init(renderer: ReportRenderer, figures: [(Plot, String?)], skipped: [String] = []) {
    self.renderer = renderer
    self.figures = figures
    self.skipped = skipped
  }

  static func escape(_ text: String) -> String {
    var out = ""
    for character in text {
      switch character {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.append(character)
      }
    }
    return out
  }

  /// Drops the XML prolog and DOCTYPE so the SVG can sit inside HTML.
  static func inlineSVG(_ svg: String) -> String {
    guard let start = svg.range(of: "<svg") else { return "" }
    return String(svg[start.lowerBound...])
  }

  static func table(_ table: TextTable) -> String {
    var html = "<table>\n<caption>\(escape(table.title))</caption>\n<thead><tr>"
    html += table.header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
    for row in table.rows {
      html +=
        "<tr>"
        + row.enumerated().map { index, cell in
          index == 0 ? "<th>\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
        }.joined() + "</tr>\n"
    }
    html += "</tbody>\n</table>\n"
    for note in table.footnotes { html += "<p class=\"note\">\(escape(note))</p>\n" }
    return html
  }

  /// The page.
  public func html() -> String {
    let analysis = renderer.analysis
    var html = """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <title>pvbench: \(Self.escape(analysis.manifest.experimentName)) \(Self.escape(analysis.manifest.runID))</title>
      <style>
      body { font-family: sans-serif; max-width: 70em; margin: 1em auto; color: #111; }
      table { border-collapse: collapse; margin: 1em 0; }
      caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
      th, td { border: 1px solid #bbb; padding: 0.2em 0.6em; }
      td { text-align: right; font-variant-numeric: tabular-nums; }
      thead th { background: #eee; }
      .note { font-size: 0.9em; color: #444; }
      figure { margin: 1.5em 0; }
      figure svg { max-width: 100%; height: auto; }
      pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
      </style>
      </head>
      <body>
      <h1>pvbench: \(Self.escape(analysis.manifest.experimentName))</h1>
      <h2>Set-up</h2>
      <ul>

      """
    for line in renderer.headerLines().dropFirst() { html += "<li>\(Self.escape(line))</li>\n" }
    html += "</ul>\n<h2>Tables</h2>\n"
    for table in renderer.tables() { html += Self.table(table) }
    for note in analysis.notes { html += "<p class=\"note\">\(Self.escape(note))</p>\n" }
    if !figures.isEmpty || !skipped.isEmpty {
      html += "<h2>Figures</h2>\n"
      if !skipped.isEmpty {
        html += "<p>Left out for want of data:</p>\n<ul class=\"skipped\">\n"
        for sentence in skipped { html += "<li>\(Self.escape(sentence))</li>\n" }
        html += "</ul>\n"
      }
      for (plot, svg) in figures {
        html += "<figure>\n"
        if let svg {
          html += Self.inlineSVG(svg)
        } else {
          html +=
            "<p>Not drawn (gnuplot missing or failed): see \(Self.escape(plot.name)).gp "
            + "and .dat.</p>"
        }
        html += "\n<figcaption>\(Self.escape(plot.caption))</figcaption>\n</figure>\n"
      }
    }
    html += "<h2>Plain text (for email)</h2>\n<pre>\(Self.escape(renderer.text()))</pre>\n"
    html += "</body>\n</html>\n"
    return html
  }
}
