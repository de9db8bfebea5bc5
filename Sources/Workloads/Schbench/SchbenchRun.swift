import CPVBenchShims
import Dispatch
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// The schbench-equivalent: message threads hand work to their workers through futexes on
/// real OS threads, and each worker times its wakeup and its request.
///
/// Every worker records into its own histograms; a statistics thread takes them (swapping in
/// empty ones under the worker's own, otherwise uncontended, lock) after each tick, so the
/// hot path shares no counter with any other thread.
public final class SchbenchRun: @unchecked Sendable {
  /// The options of this run.
  public let options: SchbenchOptions
  /// The command line recorded in the result.
  public let commandLine: [String]
  /// Workers per message thread: `-t`, or schbench's default for this host's CPUs.
  public let workersPerMessageThread: Int

  private let control: UnsafeMutableRawPointer  // [0] stopping flag (u32)
  private var messages: [MessageSlot] = []
  private var workers: [WorkerSlot] = []
  private let cpuLocks: UnsafeMutableRawPointer
  private let cpuLockCount: Int
  private var threads: [OSThread] = []
  /// With `--split`: the matrices every worker shares.
  private let sharedMatrices: Matrices?
  private var collector: OSThread?
  /// How the snapshot thread sleeps until a monotonic time (ns). A seam for tests that
  /// must delay that thread deterministically, as a starved vCPU would; set it before
  /// `start`.
  package var sleepCollectorUntil: @Sendable (UInt64) -> Void = { pvb_sleep_until_ns($0) }
  /// Called on the statistics thread once the run is over and before its threads end,
  /// with the thread ids of the message threads then the workers: the moment to read what
  /// the kernel keeps per thread (an agent reads the preferred-CPU push counter there).
  /// Set it before `start`.
  package var beforeThreadsEnd: (@Sendable ([Int32]) -> Void)?
  private let resultLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var result = SchbenchResult()
  private var started = false
  private var joined = false
  private let finished = DispatchSemaphore(value: 0)

  /// Prepares a run; no thread starts until `start`.
  /// - Parameters:
  ///   - onlineCPUs: the online CPUs of the host the run measures, for the default `-t`;
  ///     nil = this process's (sysconf). An agent passes the count under its root.
  /// - Throws: `WorkloadError.invalidOption` when the options are out of range.
  public init(options: SchbenchOptions, commandLine: [String] = [], onlineCPUs: Int? = nil)
    throws
  {
    let workers =
      options.workersPerMessageThread
      ?? SchbenchOptions.defaultWorkers(
        onlineCPUs: onlineCPUs ?? SchbenchOptions.onlineCPUCount,
        messageThreads: options.messageThreads)
    guard options.messageThreads >= 1, workers >= 1,
      options.runtimeSeconds >= 1, options.intervalSeconds >= 1
    else {
      throw WorkloadError.invalidOption(
        "The schbench options need at least one message thread, one worker, "
          + "and a runtime and interval of at least one second.")
    }
    self.options = options
    self.commandLine = commandLine
    workersPerMessageThread = workers
    control = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    control.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    cpuLockCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
    cpuLocks = UnsafeMutableRawPointer.allocate(byteCount: 64 * cpuLockCount, alignment: 64)
    cpuLocks.initializeMemory(as: UInt8.self, repeating: 0, count: 64 * cpuLockCount)
    pthread_mutex_init(resultLock, nil)
    sharedMatrices = options.splitSides.map { Matrices(side: $0.shared) }
  }

  deinit {
    stop()
    _ = wait()
    control.deallocate()
    cpuLocks.deallocate()
    sharedMatrices?.deallocate()
    pthread_mutex_destroy(resultLock)
    resultLock.deallocate()
  }

  private var stopWord: UnsafeMutablePointer<UInt32> {
    control.assumingMemoryBound(to: UInt32.self)
  }

  private var stopping: Bool { pvb_atomic_load_u32(stopWord) != 0 }

  /// Starts the message threads, the workers and the statistics thread.
  /// - Parameters:
  ///   - streamInterval: how often `onInterval` receives a per-interval snapshot.
  ///   - onInterval: called on the statistics thread with each non-cumulative snapshot.
  ///   - onProgress: called every `-i` seconds with the cumulative statistics so far and
  ///     the whole seconds since the start, for the schbench-style printout.
  ///   - onNotice: schbench's one-line notices (`warmup done, zeroing stats`, `Pinning to
  ///     message thread index 0 cpu 1`), from whichever thread has them.
  /// - Throws: `WorkloadError.threadStart` when a thread cannot be created (every thread
  ///   already started is stopped and joined first), `.alreadyStarted` on a second call.
  public func start(
    streamInterval: Duration,
    onInterval: @escaping @Sendable (SchbenchInterval) -> Void,
    onProgress: (@Sendable (SchbenchResult, Int) -> Void)? = nil,
    onNotice: (@Sendable (String) -> Void)? = nil
  ) throws {
    guard !started else { throw WorkloadError.alreadyStarted }
    started = true
    let streamNanoseconds = max(1_000_000, streamInterval.nanosecondsClamped)
    for _ in 0..<options.messageThreads {
      let message = MessageSlot()
      messages.append(message)
      for _ in 0..<workersPerMessageThread {
        let worker = WorkerSlot(index: workers.count, message: message)
        workers.append(worker)
        message.workers.append(worker)
      }
    }
    do {
      for (index, message) in messages.enumerated() {
        threads.append(
          try OSThread(name: "schbench-msg\(index)") { [self] in
            runMessageThread(message, index: index, onNotice: onNotice)
          })
      }
      for worker in workers {
        pvb_atomic_fetch_add_u64(worker.message.live, 1)
        do {
          threads.append(
            try OSThread(name: "schbench-w\(worker.index)") { [self] in runWorker(worker) })
        } catch {
          pvb_atomic_fetch_add_u64(worker.message.live, UInt64.max)
          throw error
        }
      }
      let start = pvb_monotonic_ns()
      collector = try OSThread(name: "schbench-stats") { [self] in
        runCollector(
          start: start, streamNanoseconds: streamNanoseconds, onInterval: onInterval,
          onProgress: onProgress, onNotice: onNotice)
      }
    } catch {
      shutDownThreads()
      joined = true
      throw error
    }
  }

  /// Asks the run to stop early; safe to call more than once and from any thread.
  public func stop() {
    pvb_atomic_store_u32(stopWord, 1)
  }

  /// Waits for the run to end (its runtime, or `stop`) and returns the cumulative totals.
  /// Any number of threads may wait; all get the same totals.
  public func wait() -> SchbenchResult {
    pthread_mutex_lock(resultLock)
    let alreadyJoined = joined
    joined = true
    pthread_mutex_unlock(resultLock)
    if let collector {
      if !alreadyJoined {
        collector.join()
        finished.signal()
      } else {
        // Pass the token on so every other waiter wakes too.
        finished.wait()
        finished.signal()
      }
    }
    pthread_mutex_lock(resultLock)
    defer { pthread_mutex_unlock(resultLock) }
    return result
  }

  // MARK: - Threads

  private func shutDownThreads() {
    stop()
    for message in messages { FutexWord.post(message.futex) }
    for thread in threads { thread.join() }
    threads.removeAll()
  }

  private func runMessageThread(
    _ message: MessageSlot, index: Int, onNotice: (@Sendable (String) -> Void)?
  ) {
    pvb_atomic_store_u64(message.tid, UInt64(pvb_gettid()))
    if let cpus = options.messageCPUs, !cpus.isEmpty {
      // schbench pins message thread i to the (i mod count)-th CPU of the list, alone.
      let cpu = cpus[index % cpus.count]
      pin([cpu])
      onNotice?("Pinning to message thread index \(index) cpu \(cpu)")
    }
    if let rate = options.requestsPerSecond {
      runPacedMessageThread(message, rate: rate)
      return
    }
    while true {
      pvb_atomic_store_u32(message.futex, 0)
      wakeAll(message)
      if stopping && pvb_atomic_load_u64(message.live) == 0 { return }
      FutexWord.wait(message.futex)
    }
  }

  /// Takes the whole wake list at once, stamps every worker with one timestamp, wakes them.
  @inline(__always)
  private func wakeAll(_ message: MessageSlot) {
    var node = pvb_atomic_exchange_uptr(message.head, 0)
    guard node != 0 else { return }
    let now = pvb_monotonic_ns()
    while node != 0 {
      let raw = UnsafeMutableRawPointer(bitPattern: node)!
      let next = raw.load(fromByteOffset: WorkerSlot.nextOffset, as: UInt.self)
      raw.storeBytes(of: now, toByteOffset: WorkerSlot.stampOffset, as: UInt64.self)
      FutexWord.post(raw.assumingMemoryBound(to: UInt32.self))
      node = next
    }
  }

  /// `-R` mode: each second's requests in one burst, then sleep (`BurstPacer`).
  private func runPacedMessageThread(_ message: MessageSlot, rate: Int) {
    let pacer = BurstPacer(
      requestsPerSecond: rate / options.messageThreads, workerCount: message.workers.count)
    pacer.run(
      now: { pvb_monotonic_ns() },
      sleep: { pvb_sleep_ns(min($0, 20_000_000)) },
      stopping: { stopping },
      backlog: { pvb_atomic_load_u64(message.workers[$0].pending) },
      post: { index, stamp in
        let worker = message.workers[index]
        pvb_atomic_fetch_add_u64(worker.pending, 1)
        pvb_atomic_store_u64(
          worker.memory.advanced(by: WorkerSlot.stampOffset).assumingMemoryBound(to: UInt64.self),
          stamp)
        FutexWord.post(worker.futex)
      })
    while true {
      pvb_atomic_store_u32(message.futex, 0)
      for worker in message.workers { FutexWord.post(worker.futex) }
      if pvb_atomic_load_u64(message.live) == 0 { return }
      FutexWord.wait(message.futex)
    }
  }

  /// The wakeup latency of a worker that read `wokeAt` on waking, against the stamp its
  /// waker left, or nil when the stamp is later than the wakeup. That happens in `-R` mode:
  /// the pacer may stamp the next request for a worker between the worker's wakeup and its
  /// read of the stamp. Unsigned subtraction would record about 1.8e19 ns; schbench drops
  /// such samples, and so does this.
  @inline(__always)
  static func wakeupLatency(wokeAt: UInt64, stamp: UInt64) -> UInt64? {
    wokeAt >= stamp ? wokeAt - stamp : nil
  }

  private func runWorker(_ worker: WorkerSlot) {
    pvb_atomic_store_u64(worker.tid, UInt64(pvb_gettid()))
    if let cpus = options.workerCPUs { pin(cpus) }
    let matrices = Matrices(side: options.splitSides?.private ?? options.matrixSide)
    defer {
      matrices.deallocate()
      pvb_atomic_fetch_add_u64(worker.message.live, UInt64.max)
      FutexWord.post(worker.message.futex)
    }
    let sleepNanoseconds = UInt64(options.sleepMicroseconds) * 1000
    let paced = options.requestsPerSecond != nil
    let message = worker.message
    let stampPointer = worker.memory.advanced(by: WorkerSlot.stampOffset)
      .assumingMemoryBound(to: UInt64.self)
    while !stopping {
      var wakeup: UInt64?
      if paced {
        if !worker.takePending() {
          pvb_atomic_store_u32(worker.futex, 0)
          // As schbench does, stamp itself first: a post that leaves no stamp of its own
          // then measures from here, never from an older request's stamp.
          pvb_atomic_store_u64(stampPointer, pvb_monotonic_ns())
          if !worker.takePending() {
            FutexWord.wait(worker.futex)
            let now = pvb_monotonic_ns()
            if stopping { break }
            let stamp = pvb_atomic_load_u64(stampPointer)
            if let latency = SchbenchRun.wakeupLatency(wokeAt: now, stamp: stamp) {
              worker.record(wakeup: latency, request: nil)
            }
            continue
          }
        }
      } else {
        pvb_atomic_store_u32(worker.futex, 0)
        push(worker, onto: message)
        FutexWord.post(message.futex)
        FutexWord.wait(worker.futex)
        let now = pvb_monotonic_ns()
        if stopping { break }
        wakeup = SchbenchRun.wakeupLatency(wokeAt: now, stamp: stampPointer.pointee)
      }
      let requestStart = pvb_monotonic_ns()
      if sleepNanoseconds > 0 { pvb_sleep_ns(sleepNanoseconds) }
      doWork(matrices)
      let requestEnd = pvb_monotonic_ns()
      worker.record(wakeup: wakeup, request: requestEnd &- requestStart)
    }
  }

  @inline(__always)
  private func push(_ worker: WorkerSlot, onto message: MessageSlot) {
    let node = UInt(bitPattern: worker.memory)
    while true {
      let head = pvb_atomic_load_uptr(message.head)
      worker.memory.storeBytes(of: head, toByteOffset: WorkerSlot.nextOffset, as: UInt.self)
      if pvb_atomic_cas_uptr(message.head, head, node) != 0 { return }
    }
  }

  /// The request's CPU work: `-n` multiplies (split between the worker's own matrices and
  /// the shared ones with `--split`) under the lock of the CPU the worker runs on.
  private func doWork(_ matrices: Matrices) {
    let lock = options.locking ? lockThisCPU() : nil
    if let shares = options.splitOperations {
      if let shared = sharedMatrices, shared.side > 0 {
        for _ in 0..<shares.shared { shared.multiply() }
      }
      if matrices.side > 0 {
        for _ in 0..<shares.private { matrices.multiply() }
      }
    } else if matrices.side > 0 {
      for _ in 0..<options.operations { matrices.multiply() }
    }
    if let lock { pvb_atomic_store_u32(lock, 0) }
  }

  /// Spins (trying the lock, then pausing) for the lock of the CPU this thread runs on; a
  /// thread that migrated while it waited lets that lock go and takes its new CPU's, so
  /// only one request computes on a CPU at a time, as in schbench.
  private func lockThisCPU() -> UnsafeMutablePointer<UInt32> {
    while true {
      let cpu = Int(max(0, pvb_sched_getcpu())) % cpuLockCount
      let word = cpuLocks.advanced(by: 64 * cpu).assumingMemoryBound(to: UInt32.self)
      while pvb_atomic_cas_u32(word, 0, 1) == 0 { pvb_cpu_relax() }
      if Int(max(0, pvb_sched_getcpu())) % cpuLockCount == cpu { return word }
      pvb_atomic_store_u32(word, 0)
    }
  }

  /// schbench's `sched delay`: the mean over message threads, and over workers, of each
  /// thread's run-queue wait per timeslice (`/proc/self/task/TID/schedstat`), ns.
  private func schedDelays() -> (message: UInt64, worker: UInt64) {
    func mean(_ tids: [UInt64]) -> UInt64 {
      guard !tids.isEmpty else { return 0 }
      var sum: UInt64 = 0
      for tid in tids where tid != 0 {
        if let stat = SchedStat.read(pid: getpid(), tid: Int32(truncatingIfNeeded: tid)),
          stat.timeslices > 0
        {
          sum += stat.waitNanoseconds / stat.timeslices
        }
      }
      return sum / UInt64(tids.count)
    }
    return (
      mean(messages.map { pvb_atomic_load_u64($0.tid) }),
      mean(workers.map { pvb_atomic_load_u64($0.tid) })
    )
  }

  private func pin(_ cpus: [Int]) {
    let list = cpus.map { Int32($0) }
    _ = list.withUnsafeBufferPointer { pvb_set_affinity(0, $0.baseAddress!, Int32($0.count)) }
  }

  // MARK: - Statistics

  private struct Accumulator {
    var wakeup = LatencyHistogram()
    var request = LatencyHistogram()
    var requests: UInt64 = 0

    mutating func reset() {
      wakeup.reset()
      request.reset()
      requests = 0
    }
  }

  private func runCollector(
    start: UInt64, streamNanoseconds: UInt64,
    onInterval: @escaping @Sendable (SchbenchInterval) -> Void,
    onProgress: (@Sendable (SchbenchResult, Int) -> Void)?,
    onNotice: (@Sendable (String) -> Void)?
  ) {
    let second: UInt64 = 1_000_000_000
    let end = start + UInt64(options.runtimeSeconds) * second
    var warmupEnd: UInt64? =
      options.warmupSeconds > 0 ? start + UInt64(options.warmupSeconds) * second : nil
    let zeroPeriod = options.zeroSeconds.map { UInt64($0) * second }
    var nextZero = zeroPeriod.map { (warmupEnd ?? start) + $0 }
    var nextSecond = start + second
    // Warmup intervals get negative slots, so slot 0 is the first measured interval.
    let warmupSlots = Int(UInt64(options.warmupSeconds) * second / streamNanoseconds)
    var grid = IntervalGrid(
      origin: start, length: streamNanoseconds, limit: end, firstSlot: -warmupSlots)
    var nextPrint = start + UInt64(options.intervalSeconds) * second
    var stream = Accumulator()
    var streamStart = start
    var streamIndex = 0
    var totals = Accumulator()
    var totalsStart = start
    // schbench takes its first RPS sample at time 0, over no time at all, and records 0.
    var rpsSamples: [Double] = [0]
    var currentRPS = 0.0
    var allRequests: UInt64 = 0
    var secondRequests: UInt64 = 0
    var secondStart = start
    var spareWakeup = LatencyHistogram()
    var spareRequest = LatencyHistogram()

    func drain() {
      for worker in workers {
        let requests = worker.take(wakeup: &spareWakeup, request: &spareRequest)
        stream.wakeup.merge(spareWakeup)
        stream.request.merge(spareRequest)
        stream.requests += requests
        totals.wakeup.merge(spareWakeup)
        totals.request.merge(spareRequest)
        totals.requests += requests
        secondRequests += requests
        allRequests += requests
        spareWakeup.reset()
        spareRequest.reset()
      }
    }
    func emitStream(at now: UInt64) {
      let length = Double(now - streamStart) / 1e9
      let closed = grid.close(at: now)
      onInterval(
        SchbenchInterval(
          index: streamIndex, slot: closed.slot, missedIntervals: closed.missed,
          startMonotonicNanoseconds: streamStart,
          endMonotonicNanoseconds: now, wakeup: stream.wakeup, request: stream.request,
          requests: stream.requests, rps: length > 0 ? Double(stream.requests) / length : 0,
          warmup: warmupEnd != nil))
      streamIndex += 1
      stream.reset()
      streamStart = now
    }
    func snapshot(at now: UInt64) -> SchbenchResult {
      let seconds = Double(now - totalsStart) / 1e9
      // schbench's average: every request of the run over `-r` (the seconds run, if less).
      let runSeconds = min(Double(options.runtimeSeconds), Double(now - start) / 1e9)
      var result = SchbenchResult(
        wakeup: totals.wakeup, request: totals.request, rpsSamples: rpsSamples,
        averageRPS: runSeconds > 0 ? Double(allRequests) / runSeconds : 0,
        runtimeSeconds: seconds, commandLine: commandLine)
      result.currentRPS = currentRPS
      result.workersPerMessageThread = workersPerMessageThread
      (result.messageSchedDelayNanoseconds, result.workerSchedDelayNanoseconds) =
        schedDelays()
      return result
    }
    func resetTotals(at now: UInt64) {
      totals.reset()
      rpsSamples.removeAll()
      totalsStart = now
    }

    var now = start
    while true {
      var deadline = min(end, nextSecond, grid.nextBoundary, nextPrint)
      if let warmupEnd { deadline = min(deadline, warmupEnd) }
      if let nextZero { deadline = min(deadline, nextZero) }
      // Sleep in short steps so `stop()` takes effect within 20 ms.
      while !stopping {
        now = pvb_monotonic_ns()
        if now >= deadline { break }
        sleepCollectorUntil(min(deadline, now + 20_000_000))
      }
      now = pvb_monotonic_ns()
      drain()
      if now >= nextSecond {
        currentRPS = Double(secondRequests) * 1e9 / Double(now - secondStart)
        rpsSamples.append(currentRPS)
        secondRequests = 0
        secondStart = now
        while nextSecond <= now { nextSecond += second }
      }
      if grid.isDue(at: now) { emitStream(at: now) }
      if let end = warmupEnd, now >= end {
        warmupEnd = nil
        onNotice?("warmup done, zeroing stats")
        resetTotals(at: now)
      }
      if let zero = nextZero, let period = zeroPeriod, now >= zero, warmupEnd == nil {
        resetTotals(at: now)
        nextZero = zero + period
      }
      // As schbench, the last print may fall on the end of the run, before the final one.
      if now >= nextPrint && !stopping {
        onProgress?(snapshot(at: now), Int((now - start) / second))
        while nextPrint <= now { nextPrint += UInt64(options.intervalSeconds) * second }
      }
      if now >= end || stopping { break }
    }
    let stoppedAt = pvb_monotonic_ns()
    // The scheduling delays are read while the threads still exist.
    let delays = schedDelays()
    beforeThreadsEnd?(
      (messages.map { pvb_atomic_load_u64($0.tid) } + workers.map { pvb_atomic_load_u64($0.tid) })
        .filter { $0 != 0 }.map { Int32(truncatingIfNeeded: $0) })
    shutDownThreads()
    drain()
    if stream.requests > 0 || stream.wakeup.count > 0 || streamStart < stoppedAt {
      emitStream(at: stoppedAt)
    }
    var final = snapshot(at: stoppedAt)
    (final.messageSchedDelayNanoseconds, final.workerSchedDelayNanoseconds) = delays
    pthread_mutex_lock(resultLock)
    result = final
    pthread_mutex_unlock(resultLock)
  }
}
