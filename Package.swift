// swift-tools-version: 6.1
import PackageDescription

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
    // Syscall shims only: futex, gettid, sched_getcpu, affinity.
    .target(name: "CPVBenchShims"),
    .target(
      name: "Workloads",
      dependencies: [
        "CPVBenchShims",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    .target(
      name: "Report",
      dependencies: [
        "Workloads",
        .product(name: "Histogram", package: "hdrhistogram-swift"),
      ]
    ),
    .executableTarget(
      name: "PVBench",
      dependencies: [
        "CPVBenchShims",
        "Workloads",
        "Report",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"),
      ]
    ),
    // Runs the built binary for end-to-end tests; Foundation only.
    .target(name: "PVBenchTestSupport", path: "Tests/PVBenchTestSupport"),
    .testTarget(name: "WorkloadsTests", dependencies: ["Workloads"]),
    .testTarget(name: "ReportTests", dependencies: ["Report", "Workloads"]),
    .testTarget(name: "PVBenchTests", dependencies: ["PVBench", "PVBenchTestSupport"]),
    .testTarget(name: "EndToEndTests", dependencies: ["PVBench", "PVBenchTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
