import CPVBenchShims
import Foundation
import LinuxHost
import Testing

@testable import Workloads

/// A counter shared with callbacks.
final class Collected<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var items: [Value] = []
  func append(_ value: Value) { lock.withLock { items.append(value) } }
  var all: [Value] { lock.withLock { items } }
}

@Suite(.serialized) struct SchbenchRunTests {
  /// Two OS threads hand a token back and forth through two futex words many times; a lost
  /// wakeup would leave both asleep and the bounded wait would time out.
  @Test func futexHandoffLosesNoWakeup() throws {
    let iterations = 50_000
    let words = UnsafeMutablePointer<UInt32>.allocate(capacity: 32)
    words.initialize(repeating: 0, count: 32)
    let pingWord = UnsafeSendable(words)
    let pongWord = UnsafeSendable(words + 16)
    let done = DispatchSemaphore(value: 0)
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
    counts.initialize(repeating: 0, count: 2)
    let sendableCounts = UnsafeSendable(counts)
    /// One side of the handoff: it waits for its own word, clears it and counts, and posts
    /// the other word after each wait (ping) or before it (pong).
    func side(
      _ name: String, own: UnsafeSendable<UnsafeMutablePointer<UInt32>>,
      other: UnsafeSendable<UnsafeMutablePointer<UInt32>>, slot: Int, postFirst: Bool
    ) throws -> OSThread {
      try OSThread(name: name) {
        let counts = sendableCounts.value
        let own = own.value
        let other = other.value
        for _ in 0..<iterations {
          if postFirst { FutexWord.post(other) }
          FutexWord.wait(own)
          pvb_atomic_store_u32(own, 0)
          counts[slot] += 1
          if !postFirst { FutexWord.post(other) }
        }
        done.signal()
      }
    }
    let a = try side("ping", own: pingWord, other: pongWord, slot: 0, postFirst: false)
    let b = try side("pong", own: pongWord, other: pingWord, slot: 1, postFirst: true)
    let finished =
      done.wait(timeout: .now() + 60) == .success && done.wait(timeout: .now() + 60) == .success
    #expect(finished, "the handoff stalled: a wakeup was lost")
    if finished {
      a.join()
      b.join()
      #expect(counts[0] == iterations)
      #expect(counts[1] == iterations)
      words.deallocate()
      counts.deallocate()
    }
  }

  /// The snapshot thread is held asleep for 2.7 s once, as a starved vCPU would hold it:
  /// the snapshot it takes on waking covers its real span and counts the intervals it
  /// slept through, so intervals plus gaps still give one per second of the runtime.
  @Test func aDelayedSnapshotThreadRecordsGapsNotFewerIntervals() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "1", "-t", "1", "-r", "5", "-n", "1", "-s", "100",
    ])
    let run = try SchbenchRun(options: options, commandLine: ["test"])
    let started = monotonicNow()
    let delayed = Collected<Bool>()
    run.sleepCollectorUntil = { target in
      if delayed.all.isEmpty && target >= started + 1_500_000_000 {
        delayed.append(true)
        pvb_sleep_until_ns(target + 2_700_000_000)
      } else {
        pvb_sleep_until_ns(target)
      }
    }
    let intervals = Collected<SchbenchInterval>()
    try run.start(streamInterval: .seconds(1)) { intervals.append($0) }
    _ = try waitBounded(run, seconds: 30)
    let all = intervals.all
    #expect(delayed.all.count == 1)
    // Every interval but the partial one cut by the stop starts where the last one's
    // slots end, and together they stand for the 5 s runtime.
    let whole = all.filter { $0.slot < 5 }
    #expect(
      whole.map(\.slot)
        == whole.indices.map { index in
          whole[..<index].reduce(0) { $0 + 1 + $1.missedIntervals }
        })
    #expect(whole.reduce(0) { $0 + 1 + $1.missedIntervals } == 5)
    #expect(whole.count < 5)
    let late = try #require(all.first { $0.missedIntervals > 0 })
    #expect(late.missedIntervals >= 2)
    let span = Double(late.endMonotonicNanoseconds - late.startMonotonicNanoseconds) / 1e9
    #expect(span > 2.9, "the late interval covers only \(span) s")
    // Spans are contiguous: no time is lost between snapshots.
    for (previous, next) in zip(all, all.dropFirst()) {
      #expect(previous.endMonotonicNanoseconds == next.startMonotonicNanoseconds)
    }
  }

  /// A short real run: every request has a wakeup sample, intervals add up to the totals,
  /// and the run ends on time (no worker left asleep).
  @Test func shortRunRecordsConsistentSamples() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "2", "-t", "2", "-r", "2", "-F", "8", "-n", "1", "-s", "50",
    ])
    let run = try SchbenchRun(options: options, commandLine: ["test"])
    let intervals = Collected<SchbenchInterval>()
    let started = monotonicNow()
    try run.start(streamInterval: .milliseconds(500)) { intervals.append($0) }
    let result = try waitBounded(run, seconds: 30)
    let elapsed = Double(monotonicNow() - started) / 1e9
    #expect(elapsed > 1.9 && elapsed < 15, "runtime was \(elapsed) s")
    #expect(result.request.count > 10)
    #expect(result.wakeup.count == result.request.count)
    #expect(result.rpsSamples.count >= 1)
    #expect(result.averageRPS > 0)
    #expect(result.commandLine == ["test"])
    let streamed = intervals.all
    #expect(streamed.count >= 3)
    #expect(streamed.map(\.index) == Array(0..<streamed.count))
    #expect(streamed.reduce(0) { $0 + $1.requests } == result.request.count)
    var merged = LatencyHistogram()
    for interval in streamed { merged.merge(interval.wakeup) }
    #expect(merged == result.wakeup)
    for (earlier, later) in zip(streamed, streamed.dropFirst()) {
      #expect(earlier.endMonotonicNanoseconds == later.startMonotonicNanoseconds)
    }
  }

  @Test func stopEndsTheRunEarly() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "1", "-t", "2", "-r", "60", "-F", "8",
    ])
    let run = try SchbenchRun(options: options)
    let started = monotonicNow()
    try run.start(streamInterval: .seconds(1)) { _ in }
    pvb_sleep_ns(300_000_000)
    run.stop()
    run.stop()
    let first = try waitBounded(run, seconds: 20)
    #expect(Double(monotonicNow() - started) / 1e9 < 20)
    // A second wait returns the same totals at once.
    let second = try waitBounded(run, seconds: 5)
    #expect(second.request.count == first.request.count)
    #expect(second.wakeup == first.wakeup)
    #expect(throws: WorkloadError.alreadyStarted) {
      try run.start(streamInterval: .seconds(1)) { _ in }
    }
  }

  /// `-R 200` for 2 s: two bursts of 200 requests (one at the start of each second).
  @Test func fixedRateModePacesRequests() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "1", "-t", "2", "-r", "2", "-R", "200", "-F", "8", "-n", "1", "-s", "10",
    ])
    let run = try SchbenchRun(options: options)
    try run.start(streamInterval: .seconds(1)) { _ in }
    let result = try waitBounded(run, seconds: 30)
    // Bursts at 0 s and 1 s, and possibly a third at 2 s as the run ends.
    #expect(result.request.count > 200 && result.request.count <= 600, "\(result.request.count)")
    #expect(result.wakeup.count > 0)
  }

  @Test func warmupSamplesAreLeftOutOfTheTotals() throws {
    // The command line drops a warmup from runs under 30 s, as schbench does; the library
    // keeps it, so a short test can check it.
    var options = try SchbenchOptions.parse(arguments: [
      "-m", "1", "-t", "1", "-r", "2", "-F", "8", "-n", "1",
    ])
    options.warmupSeconds = 1
    let run = try SchbenchRun(options: options)
    let intervals = Collected<SchbenchInterval>()
    let notices = Collected<String>()
    try run.start(
      streamInterval: .milliseconds(250), onInterval: { intervals.append($0) },
      onNotice: { notices.append($0) })
    let result = try waitBounded(run, seconds: 30)
    // schbench's line (Fixtures/schbench-m1-t1-r31-w1-n1.txt starts with it).
    #expect(notices.all == ["warmup done, zeroing stats"])
    let all = intervals.all
    let warm = all.filter(\.warmup).reduce(UInt64(0)) { $0 + $1.requests }
    let measured = all.filter { !$0.warmup }.reduce(UInt64(0)) { $0 + $1.requests }
    #expect(warm > 0)
    #expect(result.request.count <= measured + 1)
    #expect(result.runtimeSeconds < 1.5)
  }

  @Test func zeroTimeRestartsTheTotals() throws {
    let options = try SchbenchOptions.parse(arguments: [
      "-m", "1", "-t", "1", "-r", "3", "-z", "1", "-F", "8", "-n", "1",
    ])
    let run = try SchbenchRun(options: options)
    let intervals = Collected<SchbenchInterval>()
    try run.start(streamInterval: .milliseconds(500)) { intervals.append($0) }
    let result = try waitBounded(run, seconds: 30)
    let streamed = intervals.all.reduce(UInt64(0)) { $0 + $1.requests }
    // The totals cover only the time since the last zeroing (at 2 s of 3).
    #expect(result.runtimeSeconds < 1.5, "\(result.runtimeSeconds)")
    #expect(result.request.count < streamed)
    #expect(result.rpsSamples.count <= 2)
  }

  /// Waits for the run on another thread, failing instead of hanging past `seconds`.
  func waitBounded(_ run: SchbenchRun, seconds: Int) throws -> SchbenchResult {
    let box = Collected<SchbenchResult>()
    let done = DispatchSemaphore(value: 0)
    let waiter = try OSThread(name: "waiter") {
      box.append(run.wait())
      done.signal()
    }
    guard done.wait(timeout: .now() + .seconds(seconds)) == .success else {
      run.stop()
      Issue.record("the run did not end within \(seconds) s")
      throw CancellationError()
    }
    waiter.join()
    return box.all[0]
  }
}

/// Carries a pointer into a `@Sendable` closure in a test.
struct UnsafeSendable<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
