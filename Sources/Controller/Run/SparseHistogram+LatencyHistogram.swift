import Results
import Workloads

extension SparseHistogram {
  /// The results format's form of a workload's histogram: its non-empty buckets.
  init(_ histogram: LatencyHistogram) {
    self.init(pairs: histogram.buckets)
  }
}
