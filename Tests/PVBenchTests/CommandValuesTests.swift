import Testing

@testable import PVBenchCLI

/// Command-line values go through the experiment files' grammars.
@Suite struct CommandValuesTests {
  @Test func vmBootSizesAndTimeouts() {
    #expect(PVBench.VM.Boot.mebibytes("512M") == 512)
    #expect(PVBench.VM.Boot.mebibytes("1g") == 1024)
    #expect(PVBench.VM.Boot.mebibytes("256") == 256)
    #expect(PVBench.VM.Boot.mebibytes("0M") == nil)
    #expect(PVBench.VM.Boot.mebibytes("big") == nil)
    #expect(PVBench.VM.Boot.timeout("60s") == .seconds(60))
    #expect(PVBench.VM.Boot.timeout("500ms") == .milliseconds(500))
    #expect(PVBench.VM.Boot.timeout("2m") == .seconds(120))
    #expect(PVBench.VM.Boot.timeout("0s") == nil)
    #expect(PVBench.VM.Boot.timeout("60") == nil)
  }

  @Test func stressDurations() throws {
    #expect(try PVBench.Workload.Stress.duration("300ms", flag: "--busy") == 300_000_000)
    #expect(try PVBench.Workload.Stress.duration("1.5s", flag: "--busy") == 1_500_000_000)
    #expect(try PVBench.Workload.Stress.duration("500µs", flag: "--busy") == 500_000)
    #expect(try PVBench.Workload.Stress.duration("0", flag: "--idle") == 0)
    #expect(throws: (any Error).self) { try PVBench.Workload.Stress.duration("5", flag: "--busy") }
  }
}
