import Foundation
import PVBenchTestSupport
import Testing

/// The HTML report opened in a real browser: headless Chromium (Debian `chromium`).
@Suite(.serialized) struct BrowserTests {
  /// Chromium as the tests run it: no sandbox (the tests run as root), no GPU.
  static func chromium(_ arguments: [String]) throws -> CLI.Result {
    let common = [
      "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
      "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
    ]
    return try CLI.run(
      common + arguments, timeout: 90, binary: URL(fileURLWithPath: "/usr/bin/chromium"))
  }

  @Test func reportPageLoadsWithItsTablesAndEveryFigureVisible() throws {
    let parent = URL(fileURLWithPath: NSTemporaryDirectory())
      .appendingPathComponent("pvbench-browser-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: parent) }
    let run = try E2EStore.write(runID: "20261124-120000", in: parent)
    let report = try CLI.run(["report", run.path])
    #expect(report.status == 0, "\(report.stderr)")
    let page = run.appendingPathComponent("report/report.html")
    let html = try String(contentsOf: page, encoding: .utf8)
    let tables = html.components(separatedBy: "<table>").count - 1
    let figures = html.components(separatedBy: "<svg").count - 1
    #expect(tables > 0 && figures > 0)

    // A page beside the report loads it in a frame and writes what the browser laid out.
    let check = parent.appendingPathComponent("check.html")
    try """
    <!DOCTYPE html><html><body>
    <iframe id="report" src="\(page.absoluteString)" style="width:1200px;height:900px"></iframe>
    <pre id="result">not loaded</pre>
    <script>
    const frame = document.getElementById('report');
    frame.addEventListener('load', () => {
      const doc = frame.contentDocument;
      const svgs = [...doc.querySelectorAll('svg')];
      const drawn = svgs.filter(svg => {
        const box = svg.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && svg.querySelectorAll('path').length > 0;
      });
      document.getElementById('result').textContent =
        'tables=' + doc.querySelectorAll('table').length + ' figures=' + svgs.length +
        ' drawn=' + drawn.length;
    });
    </script></body></html>
    """.write(to: check, atomically: true, encoding: .utf8)
    let dom = try Self.chromium(["--dump-dom", check.absoluteString])
    #expect(dom.status == 0, "\(dom.stderr.suffix(500))")
    #expect(dom.stdout.contains("tables=\(tables) figures=\(figures) drawn=\(figures)"))
    // No script error and no failed load in the browser's own log.
    let problems = dom.stderr.split(separator: "\n").filter {
      $0.contains("Uncaught") || $0.contains("Failed to load") || $0.contains("Not allowed")
    }
    #expect(problems.isEmpty, "\(problems)")

    // A screenshot of the page itself: a real PNG, not a blank one.
    let shot = parent.appendingPathComponent("report.png")
    let screenshot = try Self.chromium([
      "--window-size=1280,2400", "--hide-scrollbars", "--screenshot=\(shot.path)",
      page.absoluteString,
    ])
    #expect(screenshot.status == 0, "\(screenshot.stderr.suffix(500))")
    let png = try Data(contentsOf: shot)
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    #expect(png.count > 30_000, "a blank page compresses to a few KiB; got \(png.count) bytes")
    if let keep = ProcessInfo.processInfo.environment["PVBENCH_KEEP_SCREENSHOT"] {
      try? FileManager.default.removeItem(atPath: keep)
      try FileManager.default.copyItem(atPath: shot.path, toPath: keep)
    }
  }
}
