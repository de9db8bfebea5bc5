import Foundation
import PVBenchTestSupport
import Testing

@Suite struct PlanCommandTests {
  /// Writes `yaml` as `name` into a scratch folder and runs `pvbench plan` on it.
  /// - Returns: the file's path (the messages quote it) and what the command printed.
  func plan(_ yaml: String, as name: String) throws -> (file: String, result: CLI.Result) {
    let folder = try ScratchFolder("e2e")
    defer { folder.remove() }
    let file = try folder.write(yaml, to: name)
    return (file, try CLI.run(["plan", file]))
  }

  /// Two local hosts measured at 1 s intervals, the noise `busy` then `idle`: the file of
  /// the schedule checks (the noise line is line 6).
  static func schedule(_ name: String, busy: String, idle: String) -> String {
    """
    name: \(name)
    hosts:
      vm1: { local: {} }
      vm2: { local: {} }
    measure: { host: vm1, schbench: { interval: 1s } }
    noise: { host: vm2, stress: { busy: \(busy), idle: \(idle) } }
    modes: [out-of-box]
    """
  }

  /// Every experiment file under `experiments/` (testbeds files, `*-testbeds.yaml`, are not
  /// experiments), so a file added there is planned here without being listed.
  static let shippedExperiments: [String] =
    ((try? FileManager.default.contentsOfDirectory(atPath: "experiments")) ?? [])
    .filter { $0.hasSuffix(".yaml") && !$0.hasSuffix("-testbeds.yaml") }
    .map { String($0.dropLast(".yaml".count)) }.sorted()

  @Test func theShippedListIsTheDirectory() {
    // Guards against an empty listing (a wrong working directory) passing vacuously.
    for name in ["quickstart", "cover-letter", "cooperative-mix", "pool-uncapped"] {
      #expect(Self.shippedExperiments.contains(name))
    }
  }

  @Test(arguments: shippedExperiments)
  func shippedExperimentsPlan(name: String) throws {
    let result = try CLI.run(["plan", "experiments/\(name).yaml"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stderr.isEmpty)
    #expect(result.stdout.hasPrefix("Experiment \(name) (experiments/\(name).yaml)\n"))
    #expect(result.stdout.contains("\nKnobs:\n"))
  }

  @Test func invalidFileExitsTwoWithEveryProblemAndNoStackTrace() throws {
    let (file, result) = try plan(
      """
      name: bad
      hots: {}
      measure: { host: x }
      modes: [out-of-box]
      repeat: 0
      """, as: "bad.yaml")
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == """
        \(file):1:1: error: missing key 'hosts'
        \(file):1:1: error: trigger 'follow-noise' needs a 'noise' section (or use 'trigger: static')
        \(file):2:1: error: unknown key 'hots' (did you mean 'hosts'?)
        \(file):5:9: error: repeat: must be at least 1, got '0'

        """)
  }

  @Test func quickstartPlanShowsThePoolModel() throws {
    let result = try CLI.run(["plan", "experiments/quickstart.yaml"])
    #expect(result.status == 0, "\(result.stderr)")
    // The quota itself depends on this machine's CPUs (unclaimed capacity), so not checked.
    let line = result.stdout.split(separator: "\n").first { $0.contains("vm1 (measure)  pool") }
    #expect(line?.hasPrefix("  vm1 (measure)  pool dispatch: its 2 vCPU threads share ") == true)
    #expect(line?.contains("10ms window (CFS quota: entitled 1") == true)
    #expect(line?.hasSuffix("QEMU's other threads outside the quota; for the whole run") == true)
  }

  @Test func anUnknownPoolModelExitsTwoWithItsPosition() throws {
    let (file, result) = try plan(
      """
      name: model
      hosts:
        vm1: { qemu: { vcpus: 2 }, entitled: 1 }
      pool: { model: powervm }
      measure: { host: vm1 }
      modes: [out-of-box]
      trigger: static
      """, as: "model.yaml")
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == """
        \(file):4:16: error: pool.model: expected one of 'dispatch', 'entitled', 'fair', got 'powervm'

        """)
  }

  @Test func aScheduleNoIntervalCanBeTaggedInIsRefused() throws {
    let (file, result) = try plan(
      Self.schedule("short", busy: "2s", idle: "4s"), as: "short.yaml")
    #expect(result.status == 2)
    #expect(result.stdout.isEmpty)
    #expect(
      result.stderr == """
        \(file):6:37: error: noise.stress.busy: no interval can be tagged busy: a busy \
        phase of 2s is not longer than 'settle' (1s) plus 'measure.schbench.interval' (1s), so \
        every interval lies within the settle window of an edge; make it longer than 2s or \
        shorten 'settle'

        """)
  }

  @Test func aScheduleWithFewCleanIntervalsIsWarnedAbout() throws {
    let (file, result) = try plan(
      Self.schedule("tight", busy: "10s", idle: "3s"), as: "tight.yaml")
    #expect(result.status == 0)
    #expect(result.stdout.hasPrefix("Experiment tight ("))
    #expect(
      result.stderr == """
        \(file):6:48: warning: noise.stress.idle: an idle phase of 3s leaves as few as 1 \
        clean interval of 1s per cycle after the 1s settle window (at least 3 give stable \
        percentiles)

        """)
  }

  @Test func missingFileExitsTwo() throws {
    let result = try CLI.run(["plan", "no/such/file.yaml"])
    #expect(result.status == 2)
    #expect(result.stderr == "no/such/file.yaml: error: no such file\n")
  }

  @Test func jsonListsTheSameCells() throws {
    let text = try CLI.run(["plan", "experiments/cover-letter-local.yaml"])
    let json = try CLI.run(["plan", "--json", "experiments/cover-letter-local.yaml"])
    #expect(json.status == 0)
    struct Document: Decodable {
      struct Cell: Decodable { var id: String; var repetition: Int }
      var cells: [Cell]
      var totalSeconds: Double
    }
    let document = try JSONDecoder().decode(Document.self, from: Data(json.stdout.utf8))
    // 3 cycle lengths × 2 intensities × 3 modes.
    #expect(document.cells.count == 18)
    for cell in document.cells { #expect(text.stdout.contains(cell.id)) }
  }
}
