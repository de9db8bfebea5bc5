import CPVBenchShims
import Dispatch

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

  private let control: UnsafeMutableRawPointer  // [0] stopping flag (u32)
  private var messages: [MessageSlot] = []
  private var workers: [WorkerSlot] = []
  private let cpuLocks: UnsafeMutableRawPointer
  private let cpuLockCount: Int
  private var threads: [OSThread] = []
  private var collector: OSThread?
  private let resultLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var result = SchbenchResult()
  private var started = false
  private var joined = false
  private let finished = DispatchSemaphore(value: 0)

  /// Prepares a run; no thread starts until `start`.
  /// - Throws: `WorkloadError.invalidOption` when the options are out of range.
  public init(options: SchbenchOptions, commandLine: [String] = []) throws {
    guard options.messageThreads >= 1, options.workersPerMessageThread >= 1,
      options.runtimeSeconds >= 1, options.intervalSeconds >= 1
    else {
      throw WorkloadError.invalidOption(
        "The schbench options need at least one message thread, one worker, "
          + "and a runtime and interval of at least one second.")
    }
    self.options = options
    self.commandLine = commandLine
    control = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    control.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    cpuLockCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_CONF))))
    cpuLocks = UnsafeMutableRawPointer.allocate(byteCount: 64 * cpuLockCount, alignment: 64)
    cpuLocks.initializeMemory(as: UInt8.self, repeating: 0, count: 64 * cpuLockCount)
    pthread_mutex_init(resultLock, nil)
  }

  deinit {
    stop()
    _ = wait()
    control.deallocate()
    cpuLocks.deallocate()
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
  /// - Throws: `WorkloadError.threadStart` when a thread cannot be created (every thread
  ///   already started is stopped and joined first), `.alreadyStarted` on a second call.
  public func start(
    streamInterval: Duration,
    onInterval: @escaping @Sendable (SchbenchInterval) -> Void,
    onProgress: (@Sendable (SchbenchResult, Int) -> Void)? = nil
  ) throws {
    guard !started else { throw WorkloadError.alreadyStarted }
    started = true
    let streamNanoseconds = max(1_000_000, streamInterval.nanosecondsClamped)
    for messageIndex in 0..<options.messageThreads {
      let message = MessageSlot()
      messages.append(message)
      for _ in 0..<options.workersPerMessageThread {
        let worker = WorkerSlot(index: workers.count, message: message)
        workers.append(worker)
        message.workers.append(worker)
      }
      _ = messageIndex
    }
    do {
      for (index, message) in messages.enumerated() {
        threads.append(
          try OSThread(name: "schbench-msg\(index)") { [self] in runMessageThread(message) })
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
          onProgress: onProgress)
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

  private func runMessageThread(_ message: MessageSlot) {
    if let cpus = options.messageCPUs { pin(cpus) }
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

  /// `-R` mode: hand out requests round-robin at a fixed pace (absolute deadlines, so the
  /// rate does not drift when a wakeup runs late).
  private func runPacedMessageThread(_ message: MessageSlot, rate: Int) {
    let period = max(1, UInt64(1_000_000_000) * UInt64(options.messageThreads) / UInt64(rate))
    var deadline = pvb_monotonic_ns() + period
    var next = 0
    while !stopping {
      pvb_sleep_until_ns(deadline)
      deadline += period
      let worker = message.workers[next]
      next = (next + 1) % message.workers.count
      pvb_atomic_fetch_add_u64(worker.pending, 1)
      worker.memory.storeBytes(
        of: pvb_monotonic_ns(), toByteOffset: WorkerSlot.stampOffset, as: UInt64.self)
      FutexWord.post(worker.futex)
    }
    while true {
      pvb_atomic_store_u32(message.futex, 0)
      for worker in message.workers { FutexWord.post(worker.futex) }
      if pvb_atomic_load_u64(message.live) == 0 { return }
      FutexWord.wait(message.futex)
    }
  }

  private func runWorker(_ worker: WorkerSlot) {
    if let cpus = options.workerCPUs { pin(cpus) }
    let side = options.matrixSide
    let matrices = Matrices(side: side)
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
          if !worker.takePending() {
            FutexWord.wait(worker.futex)
            let now = pvb_monotonic_ns()
            if stopping { break }
            let stamp = stampPointer.pointee
            worker.record(wakeup: now &- stamp, request: nil)
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
        wakeup = now &- stampPointer.pointee
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

  private func doWork(_ matrices: Matrices) {
    guard options.operations > 0, matrices.side > 0 else { return }
    var lock: UnsafeMutablePointer<UInt32>?
    if options.locking {
      let cpu = Int(max(0, pvb_sched_getcpu())) % cpuLockCount
      let word = cpuLocks.advanced(by: 64 * cpu).assumingMemoryBound(to: UInt32.self)
      while pvb_atomic_cas_u32(word, 0, 1) == 0 {
        while pvb_atomic_load_u32(word) != 0 { pvb_cpu_relax() }
      }
      lock = word
    }
    for _ in 0..<options.operations { matrices.multiply() }
    if let lock { pvb_atomic_store_u32(lock, 0) }
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
    onProgress: (@Sendable (SchbenchResult, Int) -> Void)?
  ) {
    let second: UInt64 = 1_000_000_000
    let end = start + UInt64(options.runtimeSeconds) * second
    var warmupEnd: UInt64? =
      options.warmupSeconds > 0 ? start + UInt64(options.warmupSeconds) * second : nil
    let zeroPeriod = options.zeroSeconds.map { UInt64($0) * second }
    var nextZero = zeroPeriod.map { (warmupEnd ?? start) + $0 }
    var nextSecond = start + second
    var nextStream = start + streamNanoseconds
    var nextPrint = start + UInt64(options.intervalSeconds) * second
    var stream = Accumulator()
    var streamStart = start
    var streamIndex = 0
    var totals = Accumulator()
    var totalsStart = start
    var rpsSamples: [Double] = []
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
        spareWakeup.reset()
        spareRequest.reset()
      }
    }
    func emitStream(at now: UInt64) {
      let length = Double(now - streamStart) / 1e9
      onInterval(
        SchbenchInterval(
          index: streamIndex, startMonotonicNanoseconds: streamStart,
          endMonotonicNanoseconds: now, wakeup: stream.wakeup, request: stream.request,
          requests: stream.requests, rps: length > 0 ? Double(stream.requests) / length : 0,
          warmup: warmupEnd != nil))
      streamIndex += 1
      stream.reset()
      streamStart = now
    }
    func snapshot(at now: UInt64) -> SchbenchResult {
      let seconds = Double(now - totalsStart) / 1e9
      return SchbenchResult(
        wakeup: totals.wakeup, request: totals.request, rpsSamples: rpsSamples,
        averageRPS: seconds > 0 ? Double(totals.requests) / seconds : 0,
        runtimeSeconds: seconds, commandLine: commandLine)
    }
    func resetTotals(at now: UInt64) {
      totals.reset()
      rpsSamples.removeAll()
      totalsStart = now
    }

    var now = start
    while true {
      var deadline = min(end, nextSecond, nextStream, nextPrint)
      if let warmupEnd { deadline = min(deadline, warmupEnd) }
      if let nextZero { deadline = min(deadline, nextZero) }
      // Sleep in short steps so `stop()` takes effect within 20 ms.
      while !stopping {
        now = pvb_monotonic_ns()
        if now >= deadline { break }
        pvb_sleep_until_ns(min(deadline, now + 20_000_000))
      }
      now = pvb_monotonic_ns()
      drain()
      if now >= nextSecond {
        rpsSamples.append(Double(secondRequests) * 1e9 / Double(now - secondStart))
        secondRequests = 0
        secondStart = now
        while nextSecond <= now { nextSecond += second }
      }
      if now >= nextStream {
        emitStream(at: now)
        while nextStream <= now { nextStream += streamNanoseconds }
      }
      if let end = warmupEnd, now >= end {
        warmupEnd = nil
        resetTotals(at: now)
      }
      if let zero = nextZero, let period = zeroPeriod, now >= zero, warmupEnd == nil {
        resetTotals(at: now)
        nextZero = zero + period
      }
      if now >= nextPrint && now < end && !stopping {
        onProgress?(snapshot(at: now), Int((now - start) / second))
        while nextPrint <= now { nextPrint += UInt64(options.intervalSeconds) * second }
      }
      if now >= end || stopping { break }
    }
    let stoppedAt = pvb_monotonic_ns()
    shutDownThreads()
    drain()
    if stream.requests > 0 || stream.wakeup.count > 0 || streamStart < stoppedAt {
      emitStream(at: stoppedAt)
    }
    let final = snapshot(at: stoppedAt)
    pthread_mutex_lock(resultLock)
    result = final
    pthread_mutex_unlock(resultLock)
  }
}
