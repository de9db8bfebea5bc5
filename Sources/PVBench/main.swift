import PVBenchCLI

// The whole command line lives in PVBenchCLI; `Tests/pvbench-testing` runs the same
// commands with the test doubles installed.
await PVBench.runFromCommandLine()
