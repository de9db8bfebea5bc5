import Foundation
import Results
import Vocabulary

/// A swept key that sets how hard the measured workload drives the guest.
public enum IntensityKey: String, CaseIterable, Sendable {
  case rps = "measure.schbench.rps"
  case workers = "measure.schbench.workers"
  case operations = "measure.schbench.operations"
  case messageThreads = "measure.schbench.message_threads"

  /// The axis title: what the number is, with schbench's flag.
  public var axisLabel: String {
    switch self {
    case .rps: "requests per second (-R)"
    case .workers: "workers per message thread (-t)"
    case .operations: "matrix multiplies per request (-n)"
    case .messageThreads: "message threads (-m)"
    }
  }
}

/// Where a folding mode's line crosses out-of-box's at one percentile.
public struct Crossover: Sendable, Equatable, Codable {
  public var modeID: String
  public var label: String
  /// The measured intensities the sign of (folded − out-of-box) changes between.
  public var lower: Double
  public var upper: Double
  /// Where the two lines cross as the figure draws them (latency on a log scale, intensity
  /// on a log scale when the figure's is): an estimate between two measured points, never a
  /// measurement.
  public var intensity: Double
  /// True when folding beats out-of-box below and loses above (it stops helping), false
  /// for the other way round.
  public var stopsHelping: Bool
}

/// The points of a sweep ordered along a workload-intensity key, for each combination of
/// the other swept keys (a slice).
public struct IntensitySweep: Sendable {
  /// One combination of the other swept keys and its points by intensity.
  public struct Slice: Sendable {
    /// The other swept keys' values (empty when intensity is the only swept key).
    public var others: [String: String]
    /// The points of this slice, ascending in intensity.
    public var points: [(intensity: Double, point: [String: String])]

    /// Whether the figure draws intensity on a log scale: positive values spanning a
    /// factor of ten or more.
    public var logScale: Bool {
      guard let first = points.first?.intensity, let last = points.last?.intensity, first > 0
      else { return false }
      return last / first >= 10
    }
  }

  public var key: IntensityKey
  public var slices: [Slice]

  /// The intensity axis of `analysis`: the first swept key that is one, with every point's
  /// value a number; nil without one.
  public init?(_ analysis: RunAnalysis) {
    guard
      let key = analysis.manifest.sweepKeys.lazy.compactMap(IntensityKey.init(rawValue:)).first
    else { return nil }
    var slices: [Slice] = []
    for point in analysis.points {
      guard let text = point[key.rawValue], let value = Double(text) else { return nil }
      var others = point
      others[key.rawValue] = nil
      if let index = slices.firstIndex(where: { $0.others == others }) {
        slices[index].points.append((value, point))
      } else {
        slices.append(Slice(others: others, points: [(value, point)]))
      }
    }
    for index in slices.indices { slices[index].points.sort { $0.intensity < $1.intensity } }
    guard slices.contains(where: { $0.points.count >= 2 }) else { return nil }
    self.key = key
    self.slices = slices
  }

  /// The out-of-box mode every folding mode is measured against, if the run has one.
  static func baseline(_ analysis: RunAnalysis) -> ModeRecord? {
    analysis.modesWithData.first { $0.kind == .outOfBox }
  }

  /// Every place in `slice` where a folding mode's median at percentile `index` crosses
  /// out-of-box's, between consecutive intensities where both have a value that enough
  /// samples hold (a thin percentile is no measurement to cross at); the crossing is
  /// placed where the straight segments of the figure cross.
  public static func crossovers(
    _ analysis: RunAnalysis, _ slice: Slice, percentileIndex index: Int
  ) -> [Crossover] {
    guard let baseline = baseline(analysis) else { return [] }
    var found: [Crossover] = []
    for mode in analysis.modesWithData where mode.kind != .outOfBox {
      let differences = slice.points.compactMap { entry -> (x: Double, d: Double)? in
        // A percentile too few samples hold is no point to cross at.
        guard let foldedEstimate = analysis.group(mode.id, entry.point)?.wakeup[index],
          let baseEstimate = analysis.group(baseline.id, entry.point)?.wakeup[index],
          !foldedEstimate.tooFewSamples, !baseEstimate.tooFewSamples,
          foldedEstimate.value > 0, baseEstimate.value > 0
        else { return nil }
        return (entry.intensity, log(foldedEstimate.value) - log(baseEstimate.value))
      }
      let scale: (Double) -> Double = slice.logScale ? { log($0) } : { $0 }
      let unscale: (Double) -> Double = slice.logScale ? { exp($0) } : { $0 }
      for (left, right) in zip(differences, differences.dropFirst())
      where (left.d < 0 && right.d > 0) || (left.d > 0 && right.d < 0) {
        let t = -left.d / (right.d - left.d)
        let x = unscale(scale(left.x) + (scale(right.x) - scale(left.x)) * t)
        found.append(
          Crossover(
            modeID: mode.id, label: mode.label, lower: left.x, upper: right.x, intensity: x,
            stopsHelping: left.d < 0))
      }
    }
    return found
  }
}
