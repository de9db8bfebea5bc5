import Foundation
import Testing

@testable import Report

/// gnuplot driven through the gnuplot-iostream bridge, with the real gnuplot.
@Suite struct GnuplotSessionTests {
  let gnuplot = try? #require(Gnuplot().executable)

  @Test func inlineRowsReachGnuplot() throws {
    let executable = try #require(gnuplot)
    // `print` of a stats result shows the numbers gnuplot read from the inline block.
    let result = try Gnuplot.session(executable, in: nil) { session in
      session.command("stats '-' using 1:2 nooutput\n")
      session.send(rows: [[1, 10], [2, 20], [3, 30.5]])
      session.command("print STATS_records, STATS_sum_x, STATS_max_y\n")
    }
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines) == "3 6.0 30.5")
  }

  @Test func aFailingScriptIsAStatusWithGnuplotsWords() throws {
    let executable = try #require(gnuplot)
    let result = try Gnuplot.session(executable, in: nil) { session in
      session.command("plot 'no-such-file.dat' using 1:2\n")
    }
    #expect(result.status != 0)
    #expect(result.stderr.contains("no-such-file.dat"))
  }

  @Test func raggedRowsAreRefusedBeforeAnythingIsSent() throws {
    let executable = try #require(gnuplot)
    nonisolated(unsafe) var accepted = true
    let result = try Gnuplot.session(executable, in: nil) { session in
      accepted = session.send(rows: [[1, 2], [3]])
    }
    #expect(!accepted)
    #expect(result.status == 0)
  }
}
