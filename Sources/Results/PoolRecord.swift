/// qemu guests only: the host pool's parameters, for a reader repeating the run.
public struct PoolRecord: Codable, Sendable, Equatable {
  /// One guest's share of the pool.
  public struct Guest: Codable, Sendable, Equatable {
    public var name: String
    /// Entitled CPUs (PowerVM processing units).
    public var entitled: Double
    public var capped: Bool
    /// PowerVM's uncapped weight (0-255); nil when capped.
    public var uncappedWeight: Int?
    /// `dispatch`: the CPUs' worth of time its vCPU threads get per window (the
    /// entitlement plus an uncapped guest's share of unclaimed capacity).
    public var dispatchCPUs: Double?

    public init(
      name: String, entitled: Double, capped: Bool, uncappedWeight: Int?, dispatchCPUs: Double?
    ) {
      self.name = name
      self.entitled = entitled
      self.capped = capped
      self.uncappedWeight = uncappedWeight
      self.dispatchCPUs = dispatchCPUs
    }
  }

  /// `pool.model`: `dispatch`, `entitled` or `fair`.
  public var model: String
  /// `pool.window` in microseconds (`dispatch` only, nil otherwise).
  public var windowMicroseconds: Int?
  /// The host CPUs the guests share.
  public var hostCPUs: Int
  public var guests: [Guest]

  public init(model: String, windowMicroseconds: Int?, hostCPUs: Int, guests: [Guest]) {
    self.model = model
    self.windowMicroseconds = windowMicroseconds
    self.hostCPUs = hostCPUs
    self.guests = guests
  }
}
