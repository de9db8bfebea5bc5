import PVBenchTestSupport
import Testing

@Suite struct CommandLineTests {
  @Test func helpListsEveryCommand() throws {
    let result = try CLI.run(["--help"])
    #expect(result.status == 0)
    for command in [
      "plan", "run", "merge", "submit", "status", "report", "compare", "workload", "agent", "vm",
      "restore", "doctor",
    ] {
      #expect(result.stdout.contains("  \(command) "), "missing \(command) in --help")
    }
  }

  @Test func versionPrints() throws {
    let result = try CLI.run(["--version"])
    #expect(result.status == 0)
    #expect(result.stdout == "0.1.0\n")
  }
}
