import AgentProtocol
import Foundation
import LinuxHost

/// The controller's side of one agent connection: requests with replies, and events.
///
/// Built over any line channel (pipes of a local or ssh child, a unix socket of a QEMU
/// virtio-serial port). A reader thread routes replies to waiting requests by id and
/// everything else to `events`.
package final class AgentClient: @unchecked Sendable {
  /// The host's name, used in every error.
  package let host: String
  /// Unsolicited events (`samples`, `kernel-warning`, …), in arrival order.
  package let events: AsyncStream<JSON>
  /// The hello event the agent sent.
  package private(set) var helloEvent: JSON = .null

  private let channel: LineChannel
  private let eventSink: AsyncStream<JSON>.Continuation
  private let lock = NSLock()
  private var nextID: Int64 = 1
  private var pending: [Int64: CheckedContinuation<JSON, any Error>] = [:]
  private var closed = false
  private var helloWaiter: CheckedContinuation<JSON, any Error>?
  private var helloReceived: JSON?
  private let onClose: @Sendable () -> Void
  private let diagnostics: @Sendable () -> String
  private let readerDone = StopFlag()

  /// A client on `channel`. `diagnostics` returns text for errors (a child's stderr);
  /// `onClose` releases what the transport owns (waits for the child).
  package init(
    host: String, channel: LineChannel, diagnostics: @escaping @Sendable () -> String = { "" },
    onClose: @escaping @Sendable () -> Void = {}, hello: JSON? = nil
  ) {
    self.host = host
    self.channel = channel
    self.diagnostics = diagnostics
    self.onClose = onClose
    // A transport that already read the hello line (a guest's boot wait) hands it over.
    self.helloReceived = hello
    (events, eventSink) = AsyncStream.makeStream(
      of: JSON.self, bufferingPolicy: .bufferingNewest(65536))
    let thread = Thread { [self] in readLoop() }
    thread.name = "pvbench-client-\(host)"
    thread.start()
  }

  /// Waits for the hello event and performs the versioned handshake.
  ///
  /// - Throws: `HostError` when no hello arrives within `timeout`, or the agent refuses.
  package func handshake(timeout: Duration = .seconds(30)) async throws -> JSON {
    let hello = try await withTimeout(timeout, what: "the agent's hello") {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<JSON, any Error>) in
        self.lock.lock()
        if let received = self.helloReceived {
          self.lock.unlock()
          continuation.resume(returning: received)
        } else if self.closed {
          self.lock.unlock()
          continuation.resume(throwing: self.goneError())
        } else {
          self.helloWaiter = continuation
          self.lock.unlock()
        }
      }
    }
    helloEvent = hello
    let theirs = hello["protocol"]?.stringValue ?? "?"
    guard AgentProtocol.majorOf(theirs) == AgentProtocol.major else {
      throw HostError(
        host: host, code: .protocolMismatch,
        message:
          "the agent speaks protocol \(theirs) (pvbench \(hello["version"]?.stringValue ?? "?")) but this controller speaks \(AgentProtocol.version); use the same pvbench version on both ends."
      )
    }
    return try await request(
      .hello,
      ["protocol": .string(AgentProtocol.version), "version": .string(PVBenchVersion.current)],
      timeout: timeout)
  }

  /// Sends one request and waits for its reply.
  ///
  /// - Returns: the reply's `result`.
  /// - Throws: `HostError` carrying the agent's code and message for an error reply, or
  ///   saying the connection dropped or the reply did not come within `timeout`.
  package func request(_ op: AgentOp, _ params: JSON = [:], timeout: Duration = .seconds(120))
    async throws -> JSON
  {
    try await request(op.rawValue, params, timeout: timeout)
  }

  /// Sends a request by its op's name (one outside `AgentOp` tests the unknown-op reply).
  ///
  /// - Returns: the reply's `result`.
  /// - Throws: as `request(_:_:timeout:)` with an `AgentOp`.
  package func request(_ op: String, _ params: JSON = [:], timeout: Duration = .seconds(120))
    async throws
    -> JSON
  {
    let id = takeID()
    let line = JSON.object(["id": .int(id), "op": .string(op), "params": params]).serialized
    return try await withTimeout(
      timeout, what: "the reply to '\(op)'", onTimeout: { self.abandon(id) }
    ) {
      try await withCheckedThrowingContinuation {
        (continuation: CheckedContinuation<JSON, any Error>) in
        self.lock.lock()
        if self.closed {
          self.lock.unlock()
          continuation.resume(throwing: self.goneError())
          return
        }
        self.pending[id] = continuation
        self.lock.unlock()
        do { try self.channel.send(line) } catch {
          self.abandon(id)?.resume(throwing: self.goneError())
        }
      }
    }
  }

  /// Asks the agent to restore and exit, waits for its reply, then closes.
  ///
  /// - Returns: the `shutdown` reply (`restored`: what was undone).
  /// - Throws: `HostError` when the restore failed (the agent keeps its journal).
  @discardableResult
  package func shutdown(timeout: Duration = .seconds(120)) async throws -> JSON {
    defer { close() }
    return try await request(.shutdown, timeout: timeout)
  }

  /// Closes the connection: the agent sees end of file, restores and exits.
  package func close() {
    channel.closeWrite()
    readerDone.stopAndWait(limitSeconds: 15)
    onClose()
  }

  private func takeID() -> Int64 {
    lock.withLock {
      defer { nextID += 1 }
      return nextID
    }
  }

  private func takeHelloWaiter() -> CheckedContinuation<JSON, any Error>? {
    lock.withLock {
      defer { helloWaiter = nil }
      return helloWaiter
    }
  }

  private func abandon(_ id: Int64) -> CheckedContinuation<JSON, any Error>? {
    lock.lock()
    defer { lock.unlock() }
    return pending.removeValue(forKey: id)
  }

  private func goneError() -> HostError {
    let detail = diagnostics().trimmingCharacters(in: .whitespacesAndNewlines)
    return HostError(
      host: host, code: .channelClosed,
      message: "the agent connection closed"
        + (detail.isEmpty ? "." : "; its last words: \(detail.suffix(600))"))
  }

  private func readLoop() {
    while let line = channel.readLine() {
      guard let message = try? JSON.parse(line) else { continue }
      if let event = message["event"]?.stringValue {
        if event == AgentEventName.hello.rawValue {
          lock.lock()
          helloReceived = message
          let waiter = helloWaiter
          helloWaiter = nil
          lock.unlock()
          waiter?.resume(returning: message)
        } else {
          eventSink.yield(message)
        }
        continue
      }
      guard let id = message["id"]?.intValue, let continuation = abandon(id) else { continue }
      if message["ok"]?.boolValue == true {
        continuation.resume(returning: message["result"] ?? .null)
      } else {
        let error = message["error"] ?? .null
        continuation.resume(
          throwing: HostError(
            host: host, code: error["code"]?.stringValue.flatMap(AgentError.Code.init(rawValue:)),
            message: error["message"]?.stringValue ?? "the agent failed without a message."))
      }
    }
    lock.lock()
    closed = true
    let waiting = Array(pending.values)
    pending.removeAll()
    let waiter = helloWaiter
    helloWaiter = nil
    lock.unlock()
    let error = goneError()
    for continuation in waiting { continuation.resume(throwing: error) }
    waiter?.resume(throwing: error)
    eventSink.finish()
    readerDone.markDone()
  }

  private func withTimeout<T: Sendable>(
    _ timeout: Duration, what: String,
    onTimeout: @escaping @Sendable () -> CheckedContinuation<JSON, any Error>? = { nil },
    _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T {
    let host = self.host
    return try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask { try await body() }
      group.addTask {
        try? await Task.sleep(for: timeout)
        return nil
      }
      defer { group.cancelAll() }
      while let value = try await group.next() {
        if let value { return value }
        let error = HostError(
          host: host, code: .timeout, message: "no \(what) within \(timeout); is the agent stuck?")
        if let continuation = onTimeout() {
          continuation.resume(throwing: error)
        } else {
          takeHelloWaiter()?.resume(throwing: error)
        }
        throw error
      }
      throw CancellationError()
    }
  }
}
