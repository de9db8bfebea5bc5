import CPVBenchShims
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// Runs CPU burners through busy and idle phases on a fixed schedule and reports each
/// actual edge and the busy fraction each phase achieved.
///
/// The schedule is absolute (edge k is at `start + k × period`), so a late edge does not
/// shift the ones after it. Child processes are always reaped: `stop()` then `wait()`
/// leaves nothing running.
public final class StressCycler: @unchecked Sendable {
  /// The options as given.
  public let options: StressOptions
  /// The engine that runs (`auto` resolved).
  public let engine: StressEngine
  /// The number of burners.
  public let workers: Int
  private let procRoot: String
  /// The resolved stress-ng executable, when the engine is stress-ng.
  private let stressNGPath: String?
  private let stopWord = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private var burner: (any Burner)?
  private var control: OSThread?
  private var joined = false
  /// True when the control thread got SCHED_FIFO (needs CAP_SYS_NICE); read after `wait()`.
  public private(set) var realtimeControl = false
  private let joinLock = NSLock()

  /// Validates the options and resolves the engine.
  /// - Throws: `WorkloadError.invalidOption` for a zero busy length, zero workers or zero
  ///   cycles, or `stress-ng` asked for but not on PATH.
  public init(options: StressOptions, procRoot: String = "/proc") throws {
    guard options.busyNanoseconds > 0 else {
      throw WorkloadError.invalidOption("The busy phase must be longer than 0.")
    }
    if let cycles = options.cycles, cycles < 1 {
      throw WorkloadError.invalidOption("The number of cycles must be at least 1, got \(cycles).")
    }
    if let workers = options.workers, workers < 1 {
      throw WorkloadError.invalidOption("The number of workers must be at least 1, got \(workers).")
    }
    self.options = options
    self.procRoot = procRoot
    workers = options.workers ?? SchbenchOptions.onlineCPUCount
    let stressNG = Executables.find("stress-ng")
    switch options.engine {
    case .auto: engine = stressNG != nil ? .stressNG : .builtin
    case .stressNG:
      guard stressNG != nil else {
        throw WorkloadError.invalidOption(
          "The stress-ng engine was asked for, but 'stress-ng' is not on PATH; install it "
            + "(apt-get install stress-ng) or use '--engine builtin'.")
      }
      engine = .stressNG
    case .builtin: engine = .builtin
    }
    stressNGPath = engine == .stressNG ? stressNG : nil
    stopWord.initialize(to: 0)
  }

  deinit {
    stop()
    wait()
    stopWord.deallocate()
  }

  private var stopping: Bool { pvb_atomic_load_u32(stopWord) != 0 }

  /// Starts the burners (parked) and the control thread that switches them.
  /// - Parameters:
  ///   - onEdge: called on the control thread right after each edge.
  ///   - onPhase: called on the control thread when a phase ends, with what it achieved.
  /// - Throws: `WorkloadError.spawn` when stress-ng cannot start, `.threadStart` when a
  ///   thread cannot, `.unreadable` when /proc/stat cannot be read, `.alreadyStarted`.
  public func start(
    onEdge: @escaping @Sendable (PhaseEdge) -> Void,
    onPhase: @escaping @Sendable (PhaseReport) -> Void
  ) throws {
    guard burner == nil else { throw WorkloadError.alreadyStarted }
    _ = try ProcStatSnapshot.read(procRoot: procRoot)
    let burner: any Burner
    switch engine {
    case .stressNG:
      burner = StressNGBurner(
        executable: stressNGPath ?? "stress-ng", workers: workers,
        control: options.stressNGControl, procRoot: procRoot)
    default:
      burner = SpinnerBurner(workers: workers, procRoot: procRoot)
    }
    try burner.prepare()
    self.burner = burner
    do {
      control = try OSThread(name: "stress-control") { [self] in
        runSchedule(burner: burner, onEdge: onEdge, onPhase: onPhase)
      }
    } catch {
      burner.finish()
      throw error
    }
  }

  /// Ends the cycle early at the next 10 ms step; safe to call more than once.
  public func stop() {
    pvb_atomic_store_u32(stopWord, 1)
  }

  /// Waits until the schedule is done and every burner has been stopped and reaped.
  public func wait() {
    joinLock.lock()
    let thread = joined ? nil : control
    joined = true
    joinLock.unlock()
    thread?.join()
  }

  /// Sleeps until `deadline` in steps of at most 10 ms; returns false when stopped.
  private func sleep(until deadline: UInt64) -> Bool {
    while !stopping {
      let now = pvb_monotonic_ns()
      if now >= deadline { return true }
      pvb_sleep_until_ns(min(deadline, now + 10_000_000))
    }
    return false
  }

  private func runSchedule(
    burner: any Burner, onEdge: @Sendable (PhaseEdge) -> Void,
    onPhase: @Sendable (PhaseReport) -> Void
  ) {
    defer { burner.finish() }
    // The burners fill every CPU; without a real-time policy this thread waits up to a
    // scheduler slice (about 3-4 ms measured) to run at each idle edge. Without the
    // privilege the edges are merely later, which the reports show.
    realtimeControl = pvb_set_fifo_priority(10) == 0
    let busy = options.busyNanoseconds
    let idle = options.idleNanoseconds
    let period = busy + idle
    // A short lead so the first edge is on schedule rather than late by the set-up time.
    let start = pvb_monotonic_ns() + 20_000_000
    var end = UInt64.max
    if let cycles = options.cycles { end = start + UInt64(cycles) * period }
    if let duration = options.durationNanoseconds { end = min(end, start + duration) }
    let engineName = engine.rawValue
    var previous:
      (phase: StressPhase, cycle: Int, at: UInt64, stat: ProcStatSnapshot?, burned: UInt64?)?
    var cycle = 0
    var isBusy = false

    func edge(_ phase: StressPhase, cycle: Int, scheduled: UInt64) {
      let now = pvb_monotonic_ns()
      let wall = pvb_realtime_ns()
      let stat = try? ProcStatSnapshot.read(procRoot: procRoot)
      let burned = burner.cpuNanoseconds()
      onEdge(
        PhaseEdge(
          phase: phase, cycle: cycle, scheduledMonotonicNanoseconds: scheduled,
          monotonicNanoseconds: now, wallNanoseconds: wall))
      if let previous, let before = previous.stat, let stat {
        var burnerFraction: Double?
        if let start = previous.burned, let burned, now > previous.at {
          let available = Double(now - previous.at) * Double(workers)
          burnerFraction = Double(burned &- start) / available
        }
        onPhase(
          PhaseReport(
            phase: previous.phase, cycle: previous.cycle, startMonotonicNanoseconds: previous.at,
            endMonotonicNanoseconds: now,
            busyFraction: StressCycler.busyFraction(from: before, to: stat, workers: workers),
            burnerFraction: burnerFraction, workers: workers, engine: engineName))
      }
      previous = phase == .end ? nil : (phase, cycle, now, stat, burned)
    }

    while true {
      let busyAt = start + UInt64(cycle) * period
      if busyAt >= end { break }
      guard sleep(until: busyAt) else { break }
      if !isBusy {
        burner.setBusy(true)
        isBusy = true
      }
      edge(.busy, cycle: cycle, scheduled: busyAt)
      let idleAt = min(busyAt + busy, end)
      guard sleep(until: idleAt) else { break }
      if idleAt >= end { break }
      if idle > 0 {
        burner.setBusy(false)
        isBusy = false
        edge(.idle, cycle: cycle, scheduled: idleAt)
      }
      cycle += 1
    }
    if end != UInt64.max { _ = sleep(until: end) }
    let endAt = min(end, pvb_monotonic_ns())
    if isBusy { burner.setBusy(false) }
    edge(.end, cycle: cycle, scheduled: endAt)
  }

  /// Busy CPU time between two readings in units of `workers` CPUs, clamped to 0…1.
  public static func busyFraction(
    from before: ProcStatSnapshot, to after: ProcStatSnapshot, workers: Int
  ) -> Double {
    let deltas = after.cpuDeltas(since: before)
    guard !deltas.isEmpty, workers > 0 else { return 0 }
    let sum = deltas.values.reduce(CPUTimes(), +)
    guard sum.total > 0 else { return 0 }
    let perCPUTotal = Double(sum.total) / Double(deltas.count)
    return min(1, max(0, Double(sum.busy) / (perCPUTotal * Double(workers))))
  }
}

/// Something that burns CPU on demand.
protocol Burner: AnyObject, Sendable {
  /// Gets ready (threads or processes exist, parked); throws when it cannot.
  func prepare() throws
  /// Switches burning on or off.
  func setBusy(_ busy: Bool)
  /// Stops and reaps everything; idempotent.
  func finish()
  /// CPU time the burners have had so far, ns (from /proc/…/schedstat), or nil if unknown.
  func cpuNanoseconds() -> UInt64?
}

/// One spinning OS thread per worker, parked on a shared futex word while idle.
final class SpinnerBurner: Burner, @unchecked Sendable {
  private let workers: Int
  private let procRoot: String
  /// 0 = parked, 1 = spin, 2 = exit.
  private let phase = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
  private var threads: [OSThread] = []
  private var finished = false
  private let tids: UnsafeMutablePointer<UInt32>

  init(workers: Int, procRoot: String) {
    self.workers = workers
    self.procRoot = procRoot
    phase.initialize(to: 0)
    tids = .allocate(capacity: workers)
    tids.initialize(repeating: 0, count: workers)
  }

  deinit {
    phase.deallocate()
    tids.deallocate()
  }

  func cpuNanoseconds() -> UInt64? {
    var sum: UInt64 = 0
    for index in 0..<workers {
      let tid = pvb_atomic_load_u32(tids + index)
      let path = SchedStat.path(process: "self", thread: Int32(bitPattern: tid), procRoot: procRoot)
      guard tid != 0, let stat = try? SchedStat.read(path: path) else { return nil }
      sum += stat.runNanoseconds
    }
    return sum
  }

  func prepare() throws {
    do {
      for index in 0..<workers {
        threads.append(
          try OSThread(name: "stress-spin\(index)") { [self] in
            pvb_atomic_store_u32(tids + index, UInt32(bitPattern: pvb_gettid()))
            spin()
          })
      }
    } catch {
      finish()
      throw error
    }
  }

  private func spin() {
    var state: UInt64 = 0x2545_F491_4F6C_DD1D
    while true {
      let value = pvb_atomic_load_u32(phase)
      if value == 2 { return }
      if value == 0 {
        _ = pvb_futex_wait(phase, 0)
        continue
      }
      while pvb_atomic_load_u32(phase) == 1 {
        for _ in 0..<64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407 }
      }
    }
  }

  func setBusy(_ busy: Bool) {
    pvb_atomic_store_u32(phase, busy ? 1 : 0)
    if busy { _ = pvb_futex_wake(phase, Int32.max) }
  }

  func finish() {
    guard !finished else { return }
    finished = true
    pvb_atomic_store_u32(phase, 2)
    _ = pvb_futex_wake(phase, Int32.max)
    for thread in threads { thread.join() }
    threads.removeAll()
  }
}

/// `stress-ng --cpu N` in its own process group, switched by signals or restarts.
final class StressNGBurner: Burner, @unchecked Sendable {
  /// The path `Executables.find` resolved, so the program checked is the program run.
  private let executable: String
  private let workers: Int
  private let control: StressNGControl
  private let procRoot: String
  private var group: pid_t = 0
  /// CPU time of burners already terminated (restart mode).
  private var retired: UInt64 = 0

  init(executable: String, workers: Int, control: StressNGControl, procRoot: String) {
    self.executable = executable
    self.workers = workers
    self.control = control
    self.procRoot = procRoot
  }

  var arguments: [String] {
    ["stress-ng", "--cpu", "\(workers)", "--cpu-method", "int64", "--timeout", "0", "--quiet"]
  }

  func prepare() throws {
    guard control == .stopContinue else { return }
    try launch()
    // Wait (at most 3 s) for the burners to exist, so that SIGCONT later resumes them
    // instead of resuming a parent that still has to fork them.
    let deadline = pvb_monotonic_ns() + 3_000_000_000
    while pvb_monotonic_ns() < deadline && childCount() < workers { pvb_sleep_ns(5_000_000) }
    _ = kill(-group, SIGSTOP)
  }

  private func launch() throws {
    // The stress-ng parent leads its own group (the cycler stops and continues the group)
    // and is killed by the kernel if the agent ends without stopping it.
    let path = Executables.find(executable) ?? executable
    let spawned = ParentBoundSpawn.spawn(
      path, arguments: Array(arguments.dropFirst()),
      environment: ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" },
      descriptors: [], newGroup: true, deathSignal: SIGKILL)
    switch spawned {
    case .success(let pid): group = pid
    case .failure(let failure):
      throw WorkloadError.spawn(command: arguments.joined(separator: " "), errno: failure.errno)
    }
  }

  /// Children of the stress-ng parent, from /proc/PID/task/PID/children.
  private func children() -> [Int] {
    guard group > 0 else { return [] }
    let path = "\(procRoot)/\(group)/task/\(group)/children"
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
      .compactMap { Int($0) }
  }

  private func childCount() -> Int { children().count }

  private func liveCPUNanoseconds() -> UInt64 {
    children().reduce(UInt64(0)) {
      $0 + (SchedStat.read(pid: Int32($1), procRoot: procRoot)?.runNanoseconds ?? 0)
    }
  }

  func cpuNanoseconds() -> UInt64? { retired + liveCPUNanoseconds() }

  func setBusy(_ busy: Bool) {
    switch control {
    case .stopContinue:
      _ = kill(-group, busy ? SIGCONT : SIGSTOP)
    case .restart:
      if busy {
        try? launch()
      } else {
        terminate()
      }
    }
  }

  /// SIGTERM to the group (resumed first so stopped processes can act on it), then SIGKILL
  /// after 2 s, reaping the parent.
  private func terminate() {
    guard group > 0 else { return }
    retired += liveCPUNanoseconds()
    _ = kill(-group, SIGCONT)
    _ = kill(-group, SIGTERM)
    let deadline = pvb_monotonic_ns() + 2_000_000_000
    var status: Int32 = 0
    while true {
      let reaped = waitpid(group, &status, WNOHANG)
      if reaped == group || (reaped < 0 && errno == ECHILD) { break }
      if pvb_monotonic_ns() > deadline {
        _ = kill(-group, SIGKILL)
        _ = waitpid(group, &status, 0)
        break
      }
      pvb_sleep_ns(1_000_000)
    }
    // Children left by a parent killed hard belong to the group too.
    _ = kill(-group, SIGKILL)
    group = 0
  }

  func finish() {
    terminate()
  }
}
