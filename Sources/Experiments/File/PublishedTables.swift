import Vocabulary

/// Published results pvbench knows by name, for `expect: { table: … }`.
package enum PublishedTables {
  /// Wakeup latency (µs) from the cover letter of "paravirt CPUs and push task for less
  /// vCPU preemption", RFC v3 (Sep 2025): PowerVM, LPAR1 90 cores (entitled 60) running
  /// schbench, LPAR2 64 cores (entitled 32) running stress-ng 60 s busy / 60 s idle.
  package static let coverLetterV3: [ModeKind: [String: Double]] = [
    .outOfBox: ["50.0": 15, "90.0": 70, "99.0": 3084, "99.9": 6184],
    .hotplug: ["50.0": 15, "90.0": 25, "99.0": 345, "99.9": 3004],
    .paravirt: ["50.0": 14, "90.0": 19, "99.0": 95, "99.9": 523],
  ]

  package static let byName: [String: [ModeKind: [String: Double]]] = [
    "cover-letter-v3": coverLetterV3
  ]
}
