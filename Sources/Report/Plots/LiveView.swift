import Foundation
import Results
import Vocabulary

/// The running cell in a terminal: per-interval p99 wakeup latency and steal, busy phases
/// marked, drawn by gnuplot's `dumb` terminal through the gnuplot-iostream session.
///
/// It reads the run folder, so `pvbench watch` in another terminal and `pvbench run --live`
/// draw the same picture from the same files.
public struct LiveView: Sendable {
  public var gnuplot: Gnuplot
  /// Terminal columns and lines for the plot.
  public var width: Int
  public var height: Int

  public init(gnuplot: Gnuplot = Gnuplot(), width: Int = 78, height: Int = 18) {
    self.gnuplot = gnuplot
    self.width = max(40, width)
    self.height = max(10, height)
  }

  /// The folder of the cell whose intervals changed last: the one running, or the last
  /// to end.
  public static func currentCell(in run: URL) -> URL? {
    RunLayout(run).lastWrittenCell()?.files.directory
  }

  /// One row per interval: seconds since the cell started, p99 wakeup (µs; none when the
  /// interval has no sample), steal %, and a short mark (10 on the % axis) when busy.
  public static func rows(_ intervals: [IntervalRecord]) -> [[Double]] {
    intervals.map { interval in
      let p99 =
        interval.wakeup.total > 0
        ? Double(interval.wakeup.value(atPercentile: 99)) / 1000 : Double.nan
      return [
        Double(interval.endNanoseconds) / 1e9, p99, interval.stealPercent ?? Double.nan,
        interval.phase == .busy ? 10 : 0,
      ]
    }
  }

  /// The gnuplot commands for `rows` (three inline blocks follow them).
  public func script(title: String) -> String {
    """
    set terminal dumb size \(width),\(height) aspect 2,1
    set title "\(title.replacingOccurrences(of: "\"", with: "'"))"
    set xlabel "s"
    set ylabel "p99 us"
    set logscale y
    set y2range [0:100]
    set y2tics 0,25,100
    set ytics nomirror
    set key outside bottom center horizontal
    plot '-' using 1:2 with lines title 'p99 wakeup (us)', \\
      '-' using 1:3 axes x1y2 with points pt 43 title 'steal %', \\
      '-' using 1:4 axes x1y2 with impulses title 'busy'

    """
  }

  /// The picture of the cell in `cell`, or a sentence saying why there is none.
  public func render(cell: URL) -> String {
    let intervals = (try? RunStore.readIntervals(url: CellFiles(cell).intervals)) ?? []
    let title = "\(cell.lastPathComponent): \(intervals.count) intervals"
    let rows = Self.rows(intervals)
    guard rows.count >= 2 else { return "\(title) (waiting for two intervals to draw)\n" }
    guard let executable = gnuplot.executable else {
      return "\(title) (no gnuplot found to draw them)\n"
    }
    let script = script(title: title)
    let result = try? Gnuplot.session(executable, in: nil) { session in
      session.command(script)
      for _ in 0..<3 { session.send(rows: rows) }
    }
    guard let result, result.status == 0 else {
      return
        "\(title) (gnuplot failed: \(result?.stderr.split(separator: "\n").first ?? "did not start"))\n"
    }
    return result.stdout
  }
}
