import CPVBenchShims

#if canImport(Glibc)
  import Glibc
#endif

/// A worker's futex word, wakeup stamp and list link (one cache line, written by its
/// message thread), plus its private histograms behind a lock only the collector contends.
final class WorkerSlot: @unchecked Sendable {
  static let stampOffset = 8
  static let nextOffset = 16
  static let pendingOffset = 24

  let index: Int
  unowned let message: MessageSlot
  let memory: UnsafeMutableRawPointer
  private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var wakeup = LatencyHistogram()
  private var request = LatencyHistogram()
  private var requests: UInt64 = 0

  init(index: Int, message: MessageSlot) {
    self.index = index
    self.message = message
    memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    memory.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
    pthread_mutex_init(lock, nil)
  }

  deinit {
    pthread_mutex_destroy(lock)
    lock.deallocate()
    memory.deallocate()
  }

  var futex: UnsafeMutablePointer<UInt32> { memory.assumingMemoryBound(to: UInt32.self) }
  /// The worker's kernel thread id, once it runs (for its schedstat).
  var tid: UnsafeMutablePointer<UInt64> {
    memory.advanced(by: 32).assumingMemoryBound(to: UInt64.self)
  }
  var pending: UnsafeMutablePointer<UInt64> {
    memory.advanced(by: WorkerSlot.pendingOffset).assumingMemoryBound(to: UInt64.self)
  }

  /// Takes one queued `-R` request if there is one (only this worker decrements).
  @inline(__always)
  func takePending() -> Bool {
    guard pvb_atomic_load_u64(pending) > 0 else { return false }
    pvb_atomic_fetch_add_u64(pending, UInt64.max)
    return true
  }

  /// Records this worker's samples; called by the worker only.
  @inline(__always)
  func record(wakeup wakeupNanoseconds: UInt64?, request requestNanoseconds: UInt64?) {
    pthread_mutex_lock(lock)
    if let wakeupNanoseconds { wakeup.record(nanoseconds: wakeupNanoseconds) }
    if let requestNanoseconds {
      request.record(nanoseconds: requestNanoseconds)
      requests += 1
    }
    pthread_mutex_unlock(lock)
  }

  /// Swaps this worker's histograms with the (empty) ones given and returns its request
  /// count since the last call; called by the collector only.
  func take(
    wakeup emptyWakeup: inout LatencyHistogram, request emptyRequest: inout LatencyHistogram
  )
    -> UInt64
  {
    pthread_mutex_lock(lock)
    swap(&wakeup, &emptyWakeup)
    swap(&request, &emptyRequest)
    let count = requests
    requests = 0
    pthread_mutex_unlock(lock)
    return count
  }
}
