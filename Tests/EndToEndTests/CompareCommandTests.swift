import Foundation
import PVBenchTestSupport
import Testing

@Suite struct CompareCommandTests {
  @Test func identicalRunsExitZero() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    // Four repetitions of 1200 samples: enough to judge every row.
    let a = try E2EStore.write(runID: "a", repetitions: 4, samplesPerValue: 3, in: parent)
    let b = try E2EStore.write(runID: "b", repetitions: 4, samplesPerValue: 3, in: parent)
    let result = try CLI.run(["compare", a.path, b.path])
    #expect(result.status == 0, "\(result.stdout)")
    #expect(
      result.stdout.hasPrefix("pvbench compare, busy phase; baseline a\n  A = a (baseline)\n"))
    #expect(result.stdout.contains("99.0th    99    99 (+0.00%)"))
    #expect(result.stdout.contains("No regression beyond the threshold."))
  }

  @Test func aSlowerRunExitsFiveAndNamesTheRegression() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    let a = try E2EStore.write(runID: "a", repetitions: 4, samplesPerValue: 3, in: parent)
    let b = try E2EStore.write(
      runID: "b", scale: 3, repetitions: 4, samplesPerValue: 3, in: parent)
    let result = try CLI.run(["compare", a.path, b.path, "--threshold", "10%"])
    #expect(result.status == 5)
    #expect(result.stdout.contains("99.0th    99  297 (-200.00%)*"))
    #expect(result.stdout.contains("Regressions beyond the threshold: Out of Box 50.0th"))
    // With --baseline the slower run is the reference: an improvement, exit 0.
    let reverse = try CLI.run(["compare", a.path, "--baseline", b.path])
    #expect(reverse.status == 0)
    #expect(reverse.stdout.contains("(+66.67%)*"))
  }

  @Test func runsTooShortToTellExitSix() throws {
    let parent = E2EStore.temporary()
    defer { try? FileManager.default.removeItem(at: parent) }
    // Two repetitions each: no data can reach p <= 0.05 (2 / C(4, 2) = 0.33).
    let a = try E2EStore.write(runID: "a", in: parent)
    let b = try E2EStore.write(runID: "b", scale: 3, in: parent)
    let result = try CLI.run(["compare", a.path, b.path])
    #expect(result.status == 6)
    #expect(result.stdout.contains("99.0th    99   297 (-200.00%)~\n"))
    #expect(result.stdout.contains("Inconclusive: Out of Box 50.0th, Out of Box 90.0th"))
    #expect(result.stdout.contains("No regression beyond the threshold."))
  }

  @Test func aBadThresholdIsRejected() throws {
    let result = try CLI.run(["compare", "/a", "/b", "--threshold", "ten"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("'--threshold' must be a percentage like '10%', got 'ten'."))
  }
}
