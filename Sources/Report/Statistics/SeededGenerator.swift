/// A small, fast, seeded random number generator (SplitMix64).
///
/// Reports must be reproducible: the same data and the same `--seed` give the
/// same bootstrap intervals, on every platform. SplitMix64 passes BigCrush and
/// needs one 64-bit word of state.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// Creates a generator whose stream depends only on `seed`.
  public init(seed: UInt64) {
    state = seed
  }

  /// Returns the next 64 random bits.
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// A uniform index in `0..<count` (`count` > 0).
  @inline(__always)
  public mutating func index(below count: Int) -> Int {
    Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(count)).high)
  }

  /// Derives an independent seed for a sub-stream named by `salt` (FNV-1a, then mixed).
  public static func derive(_ seed: UInt64, _ salt: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in salt.utf8 {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    var generator = SeededGenerator(seed: seed ^ hash)
    return generator.next()
  }
}
