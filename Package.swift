// swift-tools-version: 6.1
import PackageDescription

// Targets follow the data flow (docs/architecture.md): an experiment file is decoded
// and planned (Experiments), the controller drives one agent per host over a transport
// (Controller, AgentProtocol, LocalVMs), each agent applies modes and runs workloads
// on its host (HostAgent, Workloads, LinuxHost), the controller writes the results
// format (Results), and the report reads it (Report). The commands (PVBenchCLI) are a
// thin layer over these libraries, and the `pvbench` executable is their main.swift.
let package = Package(
  name: "pvbench",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "pvbench", targets: ["PVBench"]),
    .library(name: "Workloads", targets: ["Workloads"]),
    .library(name: "Report", targets: ["Report"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
  ],
  targets: [
    // Syscall shims (futex, gettid, sched_getcpu, affinity) and the schbench request's
    // multiply, whose machine code is pinned in C (matrix.c).
    .target(
      name: "CPVBenchShims",
      // The schbench request's inner loop on a 64-byte boundary (matrix.c).
      cSettings: [.unsafeFlags(["-falign-loops=64"])]
    ),
    // The Linux host files: cpulists, /proc/stat, schedstat, sysfs and cgroup writes,
    // host facts, child processes.
    .target(name: "LinuxHost", dependencies: ["CPVBenchShims"]),
    // Typed concepts every stage shares: modes, phases, percentile keys, durations,
    // CPU selections.
    .target(name: "Vocabulary", dependencies: ["LinuxHost"]),
    // The schbench-equivalent and the stress cycler; no orchestration knowledge.
    .target(
      name: "Workloads",
      dependencies: [
        "CPVBenchShims",
        "LinuxHost",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    // Experiment files (strict decoding) and plans (cells with stable ids).
    .target(
      name: "Experiments",
      dependencies: [
        "Vocabulary", "LinuxHost", "Workloads", .product(name: "Yams", package: "Yams"),
      ]
    ),
    // The wire protocol controller and agent share (docs/agent-protocol.md).
    .target(name: "AgentProtocol", dependencies: ["Vocabulary", "LinuxHost"]),
    // The agent that runs on each host: modes, restore journal, monitors, workloads.
    .target(
      name: "HostAgent",
      dependencies: ["AgentProtocol", "LinuxHost", "Workloads", "CPVBenchShims"]
    ),
    // The results format: records, writer and reader (docs/results-format.md).
    .target(name: "Results", dependencies: ["Vocabulary"]),
    // Local QEMU guests: images, boot, the host CPU pool, host-side steal.
    .target(name: "LocalVMs", dependencies: ["Vocabulary", "LinuxHost", "CPVBenchShims"]),
    // The run engine: transports, host sessions, the cell loop, triggers, the governor.
    .target(
      name: "Controller",
      dependencies: [
        "Experiments", "AgentProtocol", "Results", "LocalVMs", "Vocabulary", "LinuxHost",
        "Workloads",
      ]
    ),
    // gnuplot-iostream (Debian libgnuplot-iostream-dev) behind a plain C interface, so no
    // Boost type reaches Swift.
    .target(
      name: "CGnuplotBridge",
      linkerSettings: [.linkedLibrary("boost_iostreams")]
    ),
    // Statistics, tables, plots and HTML over a results store; no knowledge of hosts.
    .target(
      name: "Report", dependencies: ["Results", "Vocabulary", "LinuxHost", "CGnuplotBridge"]),
    // Every command of the command line.
    .target(
      name: "PVBenchCLI",
      dependencies: [
        "Controller", "HostAgent", "Experiments", "AgentProtocol", "Results", "LocalVMs",
        "Vocabulary", "LinuxHost", "Workloads", "Report",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // `pvbench`: main.swift only.
    .executableTarget(name: "PVBench", dependencies: ["PVBenchCLI"]),
    // Measures the coverage the report's intervals attain on synthetic data
    // (bench/report/coverage.sh); not part of `pvbench`.
    .executableTarget(
      name: "pvbench-coverage", dependencies: ["Report", "Results", "Workloads"],
      path: "bench/report/coverage"),
    // Test doubles, never in `pvbench`: the fake kernel and the crash injector, and the
    // test build of the command line that installs them (the end-to-end tests run it).
    .target(
      name: "AgentTestDoubles", dependencies: ["HostAgent", "LinuxHost"],
      path: "Tests/AgentTestDoubles"),
    .executableTarget(
      name: "pvbench-testing", dependencies: ["PVBenchCLI", "AgentTestDoubles"],
      path: "Tests/pvbench-testing"),
    // Runs the built binary for end-to-end tests; Foundation only.
    .target(name: "PVBenchTestSupport", path: "Tests/PVBenchTestSupport"),
    .testTarget(
      name: "WorkloadsTests", dependencies: ["Workloads", "LinuxHost", "CPVBenchShims"],
      // Output captured from upstream schbench, the golden data of the layout tests.
      resources: [.copy("Fixtures")]),
    .testTarget(
      name: "ReportTests", dependencies: ["Report", "Results", "Vocabulary", "Workloads"]),
    .testTarget(
      name: "PVBenchTests",
      dependencies: [
        "Controller", "HostAgent", "Experiments", "AgentProtocol", "Results", "LocalVMs",
        "Vocabulary", "LinuxHost", "Workloads", "PVBenchCLI", "AgentTestDoubles",
        "PVBenchTestSupport", "Report", "CPVBenchShims",
      ]
    ),
    .testTarget(
      name: "EndToEndTests", dependencies: ["PVBench", "pvbench-testing", "PVBenchTestSupport"]),
  ],
  swiftLanguageModes: [.v6],
  cxxLanguageStandard: .cxx17
)
