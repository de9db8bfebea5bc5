import PVBenchTestSupport

extension ScratchFolder {
  /// Writes a fake root below the folder: four CPUs present, cpu3 offline (as a hotplug
  /// left it), and the `more` files besides (a journal, other CPUs' state).
  /// - Throws: when a file cannot be written.
  func writeRootWithCPU3Offline(more: [String: String]) throws {
    let cpus = [
      "/sys/devices/system/cpu/online": "0-2\n", "/sys/devices/system/cpu/present": "0-3\n",
      "/sys/devices/system/cpu/possible": "0-3\n", "/sys/devices/system/cpu/cpu3/online": "0\n",
    ]
    try write(tree: cpus.merging(more) { _, added in added })
  }
}
