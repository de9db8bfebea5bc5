import Foundation

/// Which CPU burner the stress cycler runs.
public enum StressEngine: String, Codable, Sendable, CaseIterable {
  /// stress-ng when it is on PATH, else the built-in spinners.
  case auto
  /// `stress-ng --cpu N`, paused and resumed at the phase edges.
  case stressNG = "stress-ng"
  /// One spinning thread per worker, parked on a futex while idle.
  case builtin
}

/// How the stress-ng engine turns its burners on and off at phase edges.
public enum StressNGControl: String, Codable, Sendable, CaseIterable {
  /// Start stress-ng once, then SIGSTOP / SIGCONT its process group at each edge.
  case stopContinue = "stop-continue"
  /// Start stress-ng at each busy edge and terminate (and reap) it at each idle edge.
  case restart
}

/// The settings of a busy/idle cycle.
public struct StressOptions: Codable, Sendable, Equatable {
  /// Length of each busy phase, ns (> 0).
  public var busyNanoseconds: UInt64
  /// Length of each idle phase, ns (0 = stay busy).
  public var idleNanoseconds: UInt64
  /// Number of busy+idle cycles; nil = until `durationNanoseconds` or `stop()`.
  public var cycles: Int?
  /// Total length, ns; nil = until `cycles` are done or `stop()`.
  public var durationNanoseconds: UInt64?
  /// CPU burners; nil = one per online CPU.
  public var workers: Int?
  /// The burner.
  public var engine: StressEngine
  /// How stress-ng is switched at the edges (ignored by the built-in engine).
  public var stressNGControl: StressNGControl

  /// Creates options.
  public init(
    busyNanoseconds: UInt64, idleNanoseconds: UInt64, cycles: Int? = nil,
    durationNanoseconds: UInt64? = nil, workers: Int? = nil, engine: StressEngine = .auto,
    stressNGControl: StressNGControl = .stopContinue
  ) {
    self.busyNanoseconds = busyNanoseconds
    self.idleNanoseconds = idleNanoseconds
    self.cycles = cycles
    self.durationNanoseconds = durationNanoseconds
    self.workers = workers
    self.engine = engine
    self.stressNGControl = stressNGControl
  }

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case busyNanoseconds = "busyNanoseconds"
    case idleNanoseconds = "idleNanoseconds"
    case cycles = "cycles"
    case durationNanoseconds = "durationNanoseconds"
    case workers = "workers"
    case engine = "engine"
    case stressNGControl = "stressNGControl"
  }
}

/// What the noise host does from an edge on: burn, rest, or stop cycling.
public enum StressPhase: String, Codable, Sendable, CaseIterable {
  case busy, idle
  /// The last phase ended; the cycler is done.
  case end
}

/// One phase edge as it actually happened.
public struct PhaseEdge: Codable, Sendable, Equatable {
  /// The phase that starts at this edge.
  public var phase: StressPhase
  /// The cycle (0-based) the edge belongs to.
  public var cycle: Int
  /// When the schedule wanted the edge (CLOCK_MONOTONIC, ns).
  public var scheduledMonotonicNanoseconds: UInt64
  /// When the burners had been switched (CLOCK_MONOTONIC, ns).
  public var monotonicNanoseconds: UInt64
  /// The same instant on the wall clock (CLOCK_REALTIME, ns since the epoch).
  public var wallNanoseconds: UInt64

  /// How late the edge was, ns (0 when early, which does not happen).
  public var lateNanoseconds: UInt64 {
    monotonicNanoseconds > scheduledMonotonicNanoseconds
      ? monotonicNanoseconds - scheduledMonotonicNanoseconds : 0
  }

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case phase = "phase"
    case cycle = "cycle"
    case scheduledMonotonicNanoseconds = "scheduledMonotonicNanoseconds"
    case monotonicNanoseconds = "monotonicNanoseconds"
    case wallNanoseconds = "wallNanoseconds"
  }
}

/// What one phase achieved.
public struct PhaseReport: Codable, Sendable, Equatable {
  /// `busy` or `idle`.
  public var phase: StressPhase
  /// The cycle (0-based).
  public var cycle: Int
  /// The actual start edge (CLOCK_MONOTONIC, ns).
  public var startMonotonicNanoseconds: UInt64
  /// The actual end edge (CLOCK_MONOTONIC, ns).
  public var endMonotonicNanoseconds: UInt64
  /// Busy CPU time over the phase divided by `workers` CPUs' worth of time, 0…1, from
  /// /proc/stat over all online CPUs (so other load on the machine counts too).
  public var busyFraction: Double
  /// CPU time the burners themselves got (their schedstat) over `workers` CPUs' worth of
  /// the phase, about 0…1; unaffected by other load. Nil when it could not be read.
  public var burnerFraction: Double?
  /// Burners requested.
  public var workers: Int
  /// The engine that ran: `builtin` or `stress-ng`.
  public var engine: String

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case phase = "phase"
    case cycle = "cycle"
    case startMonotonicNanoseconds = "startMonotonicNanoseconds"
    case endMonotonicNanoseconds = "endMonotonicNanoseconds"
    case busyFraction = "busyFraction"
    case burnerFraction = "burnerFraction"
    case workers = "workers"
    case engine = "engine"
  }
}
