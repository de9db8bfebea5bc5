#if canImport(Glibc)
  import Glibc
#endif
/// A message thread's futex word, wake list head and count of live workers, on one line.
final class MessageSlot: @unchecked Sendable {
  let memory: UnsafeMutableRawPointer
  var workers: [WorkerSlot] = []

  init() {
    memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
    memory.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
  }

  deinit { memory.deallocate() }

  var futex: UnsafeMutablePointer<UInt32> { memory.assumingMemoryBound(to: UInt32.self) }
  var head: UnsafeMutablePointer<UInt> {
    memory.advanced(by: 8).assumingMemoryBound(to: UInt.self)
  }
  /// The message thread's kernel thread id, once it runs (for its schedstat).
  var tid: UnsafeMutablePointer<UInt64> {
    memory.advanced(by: 24).assumingMemoryBound(to: UInt64.self)
  }
  var live: UnsafeMutablePointer<UInt64> {
    memory.advanced(by: 16).assumingMemoryBound(to: UInt64.self)
  }
}
