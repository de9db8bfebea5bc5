import AgentTestDoubles
import PVBenchCLI

// The test build of pvbench: the same commands as `pvbench`, with the fake kernel for
// fake roots and the crash injector installed. The end-to-end tests run this binary;
// the release `pvbench` contains neither double.
TestDoubles.install()
await PVBench.runFromCommandLine()
