import Foundation
import PVBenchTestSupport
import Testing

/// `run --live` on a terminal (a pty from util-linux `script`): the running cell's plot
/// is drawn above the progress lines and redrawn.
@Suite(.serialized) struct LiveViewTests {
  @Test func liveRunRedrawsThePlotOnATerminal() throws {
    let fake = try FakeHostTree(cores: 2, threadsPerCore: 1, paravirt: false, cgroup: .v2)
    defer { fake.remove() }
    let work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "pvbench-live-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    let path = work.appendingPathComponent("live.yaml").path
    try """
    name: live
    hosts:
      box: { local: { root: \(fake.root) }, entitled: 1 }
      noisy: { local: {} }
    measure:
      host: box
      schbench: { message_threads: 1, workers: 1, runtime: 6s, interval: 1s, cache_footprint: 4K, operations: 1 }
    noise:
      host: noisy
      stress: { busy: 2s, idle: 2s, workers: 1, engine: builtin }
    modes: [out-of-box, out-of-box]
    settle: 300ms
    """.write(toFile: path, atomically: true, encoding: .utf8)
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
