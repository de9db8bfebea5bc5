import Vocabulary

extension ExperimentDecoder {
  /// Reads `interval`, `high` and `low` of a `preferred` or `governor` mode: the
  /// `steal_governor` driver's `interval_ms`, `high_threshold` and `low_threshold`, mapped
  /// exactly (whole milliseconds, whole hundredths of a percent) and refused where the
  /// driver refuses them, each error at its key.
  func decodeStealGovernorParameters(
    _ mode: inout ModeSpec, map: MappingReader?, item: NodeReader
  ) {
    let defaults = StealGovernorParameters.driverDefaults
    let intervalNode = map?.optional("interval")
    let highNode = map?.optional("high")
    let lowNode = map?.optional("low")
    var exact = true
    mode.interval =
      intervalNode.map { $0.duration(atLeast: .init(nanoseconds: 1)) }
      ?? .init(nanoseconds: UInt64(defaults.intervalMilliseconds) * 1_000_000)
    mode.high = highNode.map { $0.percentage() } ?? .init(percent: 5)
    mode.low = lowNode.map { $0.percentage() } ?? .init(percent: 2)
    guard let interval = mode.interval, let high = mode.high, let low = mode.low else { return }
    if interval.nanoseconds % 1_000_000 != 0 {
      intervalNode?.error(
        "the driver's interval_ms counts whole milliseconds, got '\(interval)'")
      exact = false
    }
    for (node, value, name) in [
      (highNode, high, "high_threshold"), (lowNode, low, "low_threshold"),
    ]
    where Self.hundredths(value) == nil {
      node?.error(
        "the driver's \(name) counts hundredths of a percent (0.01%), got '\(value)'")
      exact = false
    }
    guard exact, let highValue = Self.hundredths(high), let lowValue = Self.hundredths(low)
    else { return }
    do {
      _ = try StealGovernorParameters(
        intervalMilliseconds: Int(clamping: interval.nanoseconds / 1_000_000),
        highThreshold: highValue, lowThreshold: lowValue)
    } catch {
      switch error {
      case .interval:
        (intervalNode ?? item).error(
          "must be between 100ms and 100s (the driver refuses interval_ms outside "
            + "100–100000), got '\(interval)'")
      case .high:
        (highNode ?? item).error(
          "must be below 100% (the driver refuses high_threshold 10000 or above), "
            + "got '\(high)'")
      case .lowNotBelowHigh:
        (lowNode ?? highNode ?? item).error(
          "'low' (\(low)) must be below 'high' (\(high)): the driver refuses to load with "
            + "low_threshold \(lowValue) not below high_threshold \(highValue)")
      case .notUnsigned:
        item.error("\(error)")
      }
    }
  }

  /// `percent` in hundredths of a percent when it is a whole number of them.
  static func hundredths(_ value: Percentage) -> Int? {
    let scaled = value.percent * 100
    let whole = scaled.rounded()
    guard abs(scaled - whole) < 1e-6, whole < 1e9 else { return nil }
    return Int(whole)
  }
}
