import Results
import Vocabulary

/// Kernel A/B in one run: when the sweep changes what local guests boot, each boot
/// configuration is a kernel (`K1`, `K2`, …) named in the header with its release and
/// command line, and one table puts every kernel × mode side by side.
extension ReportRenderer {
  /// The boot configurations of the run, in the order they were first booted: the swept
  /// boot keys' values, and each guest's kernel there.
  struct KernelConfiguration {
    var point: [String: String]
    var records: [KernelRecord]
    /// `K1`, `K2`, …
    var label: String
  }

  var kernelConfigurations: [KernelConfiguration] {
    var configurations: [KernelConfiguration] = []
    for record in analysis.manifest.kernels ?? [] {
      if let index = configurations.firstIndex(where: { $0.point == record.point }) {
        configurations[index].records.append(record)
      } else {
        configurations.append(
          KernelConfiguration(
            point: record.point, records: [record], label: "K\(configurations.count + 1)"))
      }
    }
    return configurations
  }

  /// One header line per kernel: `kernel K1 (hosts.vm1.qemu.append=nosmt): vm1 6.1.0-…,
  /// cmdline '…'`.
  func kernelHeaderLines() -> [String] {
    kernelConfigurations.map { configuration in
      "kernel \(configuration.label) ("
        + GroupKey(modeID: "", point: configuration.point).pointText + "): "
        + configuration.records.map {
          "\($0.host) \($0.kernelRelease), cmdline '\($0.kernelCmdline)'"
        }.joined(separator: "; ")
    }
  }

  /// Wakeup and request latency with a column per kernel × mode, a pair of tables per
  /// value of the sweep's other keys; nothing when the run did not sweep what guests boot.
  func kernelTables() -> [TextTable] {
    let configurations = kernelConfigurations
    guard configurations.count > 1 else { return [] }
    let phase = analysis.phase.rawValue
    func kernel(of point: [String: String]) -> KernelConfiguration? {
      configurations.first { configuration in
        configuration.point.allSatisfy { point[$0.key] == $0.value }
      }
    }
    func rest(of point: [String: String]) -> [String: String] {
      point.filter { !GuestBootKey.choosesKernel($0.key) }
    }
    var others: [[String: String]] = []
    for point in analysis.points where !others.contains(rest(of: point)) {
      others.append(rest(of: point))
    }
    return others.flatMap { other -> [TextTable] in
      var columns: [(label: String, group: GroupStats)] = []
      for configuration in configurations {
        guard
          let point = analysis.points.first(where: {
            rest(of: $0) == other && kernel(of: $0)?.label == configuration.label
          })
        else { continue }
        for group in groups(at: point) {
          columns.append(("\(configuration.label) \(group.label)", group))
        }
      }
      guard !columns.isEmpty else { return [] }
      let legend =
        configurations.map { "\($0.label): " + GroupKey(modeID: "", point: $0.point).pointText }
        .joined(separator: "; ") + " (releases and command lines in the header)."
      let percentiles = analysis.percentiles.indices
      return [
        TextTable(
          title: "Wakeup latency (usec) by kernel and mode, \(phase) phase"
            + pointSuffix(other),
          header: ["percentile"] + columns.map(\.label),
          rows: percentiles.map { index in
            [PercentileKey(analysis.percentiles[index]).label]
              + columns.map { Format.micros($0.group.wakeup[index]) }
          } + [["samples"] + columns.map { "\($0.group.wakeupSamples)" }],
          footnotes: [legend]),
        TextTable(
          title: "Request latency (usec) and rps by kernel and mode, \(phase) phase"
            + pointSuffix(other),
          header: ["percentile"] + columns.map(\.label),
          rows: percentiles.map { index in
            [PercentileKey(analysis.percentiles[index]).label]
              + columns.map { Format.micros($0.group.request[index]) }
          } + [["rps"] + columns.map { $0.group.rps.map { Format.rate($0.value) } ?? "-" }],
          footnotes: [legend]),
      ]
    }
  }
}
