import Testing

@testable import Workloads

/// `-R` pacing on a fake clock: each second's requests in one burst at its start,
/// round-robin, then a sleep to the next second; a worker over the backlog limit is
/// skipped after a 100 µs pause.
@Suite struct BurstPacerTests {
  final class FakeHost {
    var clock: UInt64 = 5_000_000_000
    var posts: [(worker: Int, stamp: UInt64)] = []
    var sleeps: [UInt64] = []
    var backlog: [UInt64]
    let rounds: Int
    var rounds_started = 0
    init(workers: Int, rounds: Int) {
      backlog = Array(repeating: 0, count: workers)
      self.rounds = rounds
    }
  }

  func drive(_ pacer: BurstPacer, _ host: FakeHost, stopAfter seconds: UInt64) {
    let end = host.clock + seconds * BurstPacer.second
    var calls = 0
    pacer.run(
      now: {
        host.clock += 1_000  // every clock read costs 1 µs
        return host.clock
      },
      sleep: {
        host.sleeps.append($0)
        host.clock += $0
      },
      stopping: {
        calls += 1
        return host.clock >= end || calls > 100_000
      },
      backlog: { host.backlog[$0] },
      post: { worker, stamp in host.posts.append((worker, stamp)) })
  }

  @Test func eachSecondIsOneBurstThenASleep() {
    let host = FakeHost(workers: 3, rounds: 3)
    let start = host.clock
    drive(BurstPacer(requestsPerSecond: 5, workerCount: 3), host, stopAfter: 3)
    #expect(host.posts.count == 15)
    #expect(host.posts.map(\.worker) == (0..<15).map { $0 % 3 })
    // Five posts 1 µs apart at the start of each second, then one sleep to its end.
    for (index, post) in host.posts.enumerated() {
      let second = UInt64(index / 5)
      let offset = post.stamp - start - second * BurstPacer.second
      #expect(offset < 20_000, "post \(index) at \(offset) ns into its second")
    }
    #expect(host.sleeps.count == 3)
    #expect(host.sleeps.allSatisfy { $0 > 990_000_000 && $0 < BurstPacer.second })
  }

  @Test func aWorkerOverTheBacklogLimitIsSkipped() {
    let host = FakeHost(workers: 2, rounds: 1)
    host.backlog[1] = BurstPacer.backlogLimit + 1
    drive(BurstPacer(requestsPerSecond: 4, workerCount: 2), host, stopAfter: 1)
    #expect(host.posts.map(\.worker) == [0, 0])
    #expect(host.sleeps.filter { $0 == BurstPacer.backlogPauseNanoseconds }.count == 2)
  }

  @Test func lessThanOneRequestPerMessageThreadPostsNothing() {
    let host = FakeHost(workers: 1, rounds: 1)
    drive(BurstPacer(requestsPerSecond: 0, workerCount: 1), host, stopAfter: 2)
    #expect(host.posts.isEmpty)
  }
}
