import Foundation

/// The result of an operation still running: filled in by its task, polled by another until
/// it is there (`RunController.interruptible`).
package final class PendingResult<T: Sendable>: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: Result<T, any Error>?
  package var value: Result<T, any Error>? { lock.withLock { stored } }
  package func set(_ result: Result<T, any Error>) { lock.withLock { stored = result } }
}

extension Result where Failure == any Error {
  package init(catching body: () async throws -> Success) async {
    do { self = .success(try await body()) } catch { self = .failure(error) }
  }
}
