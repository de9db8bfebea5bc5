import CPVBenchShims

/// A futex word with three states: 0 armed, 1 posted, 2 armed with a sleeper.
enum FutexWord {
  /// Marks the word posted and wakes its sleeper if one is (or may be) asleep.
  @inline(__always)
  static func post(_ word: UnsafeMutablePointer<UInt32>) {
    if pvb_atomic_exchange_u32(word, 1) == 2 { _ = pvb_futex_wake(word, 1) }
  }

  /// Returns once the word is posted; sleeps in the kernel meanwhile. No wakeup is lost:
  /// the kernel re-checks the word against 2 before sleeping.
  @inline(__always)
  static func wait(_ word: UnsafeMutablePointer<UInt32>) {
    while true {
      let value = pvb_atomic_load_u32(word)
      if value == 1 { return }
      if value == 0 {
        _ = pvb_atomic_cas_u32(word, 0, 2)
        continue
      }
      _ = pvb_futex_wait(word, 2)
    }
  }
}
