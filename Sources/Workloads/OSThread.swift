#if canImport(Glibc)
  import Glibc
#endif

/// A joinable POSIX thread: measurement code runs here, never on the Swift concurrency pool.
struct OSThread: Sendable {
  private final class Box: @unchecked Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
  }

  private let handle: pthread_t

  /// Starts `body` on a new OS thread.
  /// - Throws: `WorkloadError.threadStart` when pthread_create fails (for example EAGAIN at
  ///   the task limit).
  init(name: String, body: @escaping @Sendable () -> Void) throws {
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(
      &thread, nil,
      { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
      }, box)
    guard rc == 0 else {
      Unmanaged<Box>.fromOpaque(box).release()
      throw WorkloadError.threadStart(name: name, errno: rc)
    }
    handle = thread
  }

  /// Waits for the thread to finish.
  func join() {
    _ = pthread_join(handle, nil)
  }
}
