import CPVBenchShims
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Starts child processes that the kernel ends when pvbench ends, however it ends.
///
/// Every child gets a parent-death signal (`PR_SET_PDEATHSIG`, set between fork and exec by
/// `pvb_spawn_with_parent_death`), so a `pvbench run` killed with SIGKILL still takes its
/// agents, ssh sessions and QEMU guests with it. The kernel sends that signal when the
/// *thread* that forked the child ends, not the process; Swift's pooled threads come and go,
/// so every spawn runs on one thread that lives as long as the process.
package enum ParentBoundSpawn {
  /// Starts `executable` with `arguments` (argv[1…]) and the full `environment`.
  ///
  /// - Parameters:
  ///   - descriptors: `(from, to)` pairs duplicated in order in the child (`to` 0, 1, 2 for
  ///     stdio); a pair with `from == to` only clears close-on-exec.
  ///   - directory: the child's working directory; this process's when nil.
  ///   - newGroup: the child leads a process group of its own.
  ///   - deathSignal: what the child receives when this process ends.
  /// - Returns: the child's pid, or the errno of what failed (fork, a step in the child,
  ///   execve).
  package static func spawn(
    _ executable: String, arguments: [String], environment: [String],
    descriptors: [(from: Int32, to: Int32)], directory: String? = nil, newGroup: Bool,
    deathSignal: Int32 = SIGTERM
  ) -> Result<pid_t, SpawnFailure> {
    let request = Request(
      executable: executable, arguments: arguments, environment: environment,
      descriptors: descriptors.flatMap { [$0.from, $0.to] }, directory: directory,
      newGroup: newGroup, deathSignal: deathSignal)
    return SpawnerThread.shared.perform { request.spawn() }
  }

  /// An errno from starting a child.
  package struct SpawnFailure: Error, Sendable {
    package var errno: Int32
  }

  private struct Request: Sendable {
    var executable: String
    var arguments: [String]
    var environment: [String]
    var descriptors: [Int32]
    var directory: String?
    var newGroup: Bool
    var deathSignal: Int32

    func spawn() -> Result<pid_t, SpawnFailure> {
      let argv = ([executable] + arguments).map { strdup($0) } + [nil]
      let envp = environment.map { strdup($0) } + [nil]
      defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
      }
      var pid: Int32 = 0
      let result = descriptors.withUnsafeBufferPointer { fds in
        pvb_spawn_with_parent_death(
          executable, argv, envp, fds.baseAddress, Int32(descriptors.count / 2), directory,
          newGroup ? 1 : 0, deathSignal, &pid)
      }
      return result == 0 ? .success(pid) : .failure(SpawnFailure(errno: result))
    }
  }
}

/// The one long-lived thread children are forked from (see `ParentBoundSpawn`).
private final class SpawnerThread: @unchecked Sendable {
  static let shared = SpawnerThread()
  private let condition = NSCondition()
  private var jobs: [@Sendable () -> Void] = []

  private init() {
    let thread = Thread { [self] in loop() }
    thread.name = "pvbench-spawner"
    thread.start()
  }

  private func loop() {
    while true {
      condition.lock()
      while jobs.isEmpty { condition.wait() }
      let job = jobs.removeFirst()
      condition.unlock()
      job()
    }
  }

  /// Runs `body` on the spawner thread and waits for its result.
  func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
    let box = SpawnerReply<T>()
    let done = DispatchSemaphore(value: 0)
    condition.lock()
    jobs.append {
      box.value = body()
      done.signal()
    }
    condition.signal()
    condition.unlock()
    done.wait()
    return box.value!
  }
}

/// The value a job on the spawner thread hands back; written before the semaphore signals,
/// read after it waits.
private final class SpawnerReply<T>: @unchecked Sendable {
  var value: T?
}
