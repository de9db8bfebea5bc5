/// How one message thread paces `-R` requests, as schbench does: at the start of each
/// second it hands out that second's requests one after another, round-robin over its
/// workers, then sleeps out the rest of the second. The requests arrive in a burst, not
/// evenly spaced, so queues build at each second's start the way they do under schbench.
///
/// The clock, the sleep and the hand-off are parameters, so tests drive the schedule with
/// a fake clock.
struct BurstPacer {
  /// Requests this message thread posts each second: `-R` divided (rounding down, as
  /// schbench does) by the number of message threads.
  let requestsPerSecond: Int
  /// Workers of this message thread, served round-robin.
  let workerCount: Int

  /// A worker with more than this many requests queued gets no more until it catches up;
  /// the pacer pauses briefly instead (schbench's limit).
  static let backlogLimit: UInt64 = 128
  /// The pause after finding a worker at the backlog limit.
  static let backlogPauseNanoseconds: UInt64 = 100_000
  static let second: UInt64 = 1_000_000_000

  /// Posts requests until `stopping` returns true.
  /// - Parameters:
  ///   - now: the monotonic clock, ns.
  ///   - sleep: sleeps for the given ns (or less if the run stops).
  ///   - stopping: true once the run ends; checked before each request and each sleep.
  ///   - backlog: the requests worker `i` has queued and not yet started.
  ///   - post: queues one request for worker `i`, stamped with the time read just before.
  func run(
    now: () -> UInt64, sleep: (UInt64) -> Void, stopping: () -> Bool,
    backlog: (Int) -> UInt64, post: (_ worker: Int, _ stamp: UInt64) -> Void
  ) {
    guard workerCount > 0 else { return }
    var next = 0
    while !stopping() {
      let secondStart = now()
      for _ in 0..<requestsPerSecond {
        if stopping() { break }
        let stamp = now()
        let worker = next
        next = (next + 1) % workerCount
        if backlog(worker) > BurstPacer.backlogLimit {
          sleep(BurstPacer.backlogPauseNanoseconds)
          continue
        }
        post(worker, stamp)
      }
      while !stopping() {
        let elapsed = now() &- secondStart
        if elapsed >= BurstPacer.second { break }
        sleep(BurstPacer.second - elapsed)
      }
    }
  }
}
