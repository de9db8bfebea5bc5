import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Turns SIGINT and SIGTERM into a call of `onSignal` (on a dispatch queue), so a workload
/// can stop its threads and reap its children before the command exits with code 130.
final class WorkloadSignals: @unchecked Sendable {
  private var sources: [any DispatchSourceSignal] = []
  private let lock = DispatchQueue(label: "pvbench.workload.signals")
  private var caught = false

  /// Installs the handlers; they stay until `cancel()`.
  init(onSignal: @escaping @Sendable () -> Void) {
    for number in [SIGINT, SIGTERM] {
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [weak self] in
        self?.lock.sync { self?.caught = true }
        onSignal()
      }
      source.resume()
      sources.append(source)
    }
  }

  /// True once a signal arrived.
  var interrupted: Bool { lock.sync { caught } }

  /// Removes the handlers and restores the default dispositions.
  func cancel() {
    for source in sources { source.cancel() }
    sources.removeAll()
    signal(SIGINT, SIG_DFL)
    signal(SIGTERM, SIG_DFL)
  }
}
