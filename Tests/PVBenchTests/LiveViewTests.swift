import Foundation
import PVBenchTestSupport
import Testing

/// `run --live` on a terminal (a pty from util-linux `script`): the running cell's plot
/// is drawn above the progress lines and redrawn.
@Suite(.serialized) struct LiveViewTests {
  @Test func liveRunRedrawsThePlotOnATerminal() throws {
    let fake = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    defer { fake.remove() }
    let work = try ScratchFolder("live")
    defer { work.remove() }
    let experiment = LocalExperiment(
      name: "live", root: fake.root, modes: ["out-of-box", "out-of-box"])
    let path = try work.write(experiment.yaml, to: "live.yaml")
    let command = "\(BuiltBinary.path) run \(path) --live --results \(work.path)/results"
    let result = try CLI.run(
      ["-qfec", command, "/dev/null"], environment: ["CI": "", "TERM": "xterm"], timeout: 180,
      binary: URL(fileURLWithPath: "/usr/bin/script"))
    #expect(result.status == 0, "\(result.stdout.suffix(2000))")
    let drawn = result.stdout.components(separatedBy: "p99 wakeup (us)").count - 1
    #expect(drawn >= 2, "the plot was drawn \(drawn) times")
    #expect(result.stdout.contains("+-------"))  // the dumb terminal's frame
  }
}
