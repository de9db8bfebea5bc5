import CPVBenchShims
import Controller
import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import Results
import Synchronization
import Testing

@Suite struct VMStealTests {
  @Test func stealIsWaitDeltaOverWallDelta() throws {
    let root = try VMTestSupport.temporaryFolder("proc")
    defer { VMTestSupport.remove(root) }
    for tid in [7, 8] {
      try FileManager.default.createDirectory(
        atPath: "\(root)/42/task/\(tid)", withIntermediateDirectories: true)
      try "100 1000 3\n".write(
        toFile: "\(root)/42/task/\(tid)/schedstat", atomically: true, encoding: .utf8)
    }
    let now = Mutex<UInt64>(5_000_000_000)
    let steal = HostSideSteal(
      pid: 42, threads: [VCPUThread(index: 0, tid: 7), VCPUThread(index: 1, tid: 8)],
      procRoot: root, clock: { now.withLock { $0 } })
    try "100 250001000 3\n".write(
      toFile: "\(root)/42/task/7/schedstat", atomically: true, encoding: .utf8)
    try "100 750001000 3\n".write(
      toFile: "\(root)/42/task/8/schedstat", atomically: true, encoding: .utf8)
    now.withLock { $0 += 1_000_000_000 }
    let sample = steal.sample()
    #expect(sample.perVCPU == [25.0, 75.0])
    #expect(sample.mean == 50.0)
    #expect(sample.intervalNanoseconds == 1_000_000_000)
    // A vCPU thread that vanished has no figure; the mean covers the rest.
    try FileManager.default.removeItem(atPath: "\(root)/42/task/8")
    now.withLock { $0 += 1_000_000_000 }
    let next = steal.sample()
    #expect(next.perVCPU == [0.0, nil])
    #expect(next.mean == 0.0)
  }

  /// Two spinning threads pinned to one CPU each wait about half the time; the test only
  /// changes its own threads' affinity.
  @Test func twoSpinnersOnOneCPUWaitAboutHalfTheTime() throws {
    let stop = Atomic<Bool>(false)
    let tids = Mutex<[Int32]>([])
    let cpu = Int32(HostPool.onlineCPUs().last ?? 0)
    var threads: [Thread] = []
    for _ in 0..<2 {
      let thread = Thread {
        var target = cpu
        _ = pvb_set_affinity(0, &target, 1)
        tids.withLock { $0.append(pvb_gettid()) }
        var spins: UInt64 = 0
        let started = pvb_monotonic_ns()
        // Bounded: stops on the flag or after 10 s whatever happens.
        while !stop.load(ordering: .relaxed) && pvb_monotonic_ns() - started < 10_000_000_000 {
          spins &+= 1
        }
      }
      thread.start()
      threads.append(thread)
    }
    defer { stop.store(true, ordering: .relaxed) }
    for _ in 0..<200 where tids.withLock({ $0.count }) < 2 { usleep(5_000) }
    let ids = tids.withLock { $0 }
    try #require(ids.count == 2)
    usleep(100_000)
    let vcpus = ids.enumerated().map { VCPUThread(index: $0.offset, tid: $0.element) }
    let before = ids.map { SchedStat.read(pid: getpid(), tid: $0) }
    let wallStart = DispatchTime.now().uptimeNanoseconds
    let steal = HostSideSteal(pid: getpid(), threads: vcpus)
    usleep(1_500_000)
    let sample = steal.sample()
    let after = ids.map { SchedStat.read(pid: getpid(), tid: $0) }
    let wall = Double(DispatchTime.now().uptimeNanoseconds - wallStart)
    stop.store(true, ordering: .relaxed)
    for (index, value) in sample.perVCPU.enumerated() {
      let percent = try #require(value)
      // Half of the CPU each, give or take the compiler jobs sharing this machine.
      #expect(percent > 30 && percent < 90, "vCPU \(index): \(percent) %")
      // An always-runnable thread is either running or waiting. schedstat books a wait when
      // the thread next runs, so on a loaded host the edges can be off by a long slice.
      let b = try #require(before[index])
      let a = try #require(after[index])
      let busy = Double(a.runNanoseconds - b.runNanoseconds + a.waitNanoseconds - b.waitNanoseconds)
      #expect(busy / wall > 0.8 && busy / wall < 1.2, "run+wait = \(busy / wall) of wall")
    }
    let mean = try #require(sample.mean)
    #expect(mean > 35 && mean < 85)
  }
}
