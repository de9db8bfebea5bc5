import AgentProtocol
import CPVBenchShims
import Foundation
import LinuxHost

/// Serves the agent protocol on a line channel: handshake, requests, events, restore on exit.
///
/// Requests are handled one at a time in arrival order on the thread that calls `run()`;
/// monitors (samplers, the kernel log watch) emit events from their own threads. Adding a
/// request is one entry in `handlers`.
package final class AgentServer: @unchecked Sendable {
  /// A request handler: params in, result out, or an `AgentError` for the error reply.
  package typealias Handler = @Sendable (AgentServer, JSON) throws(AgentError) -> JSON

  /// Why the serve loop ended.
  package enum Ending: Sendable, Equatable {
    /// The controller sent `shutdown`.
    case shutdown
    /// End of file or hang-up on the channel: the controller is gone.
    case controllerGone
  }

  package let channel: LineChannel
  package let paths: HostPaths
  package let kernel: any SysfsWriter
  package let modes: ModeEngine
  package let monitors: MonitorSet
  package let workloads: WorkloadHost
  private let lock = NSLock()
  private var handshakeDone = false
  private var stopRequested = false
  private var handlers: [String: Handler] = AgentServer.standardHandlers.merging(
    AgentServer.workloadHandlers
  ) { $1 }

  /// A server on `channel` acting on the host under `paths`, journaling to `journalPath`.
  package init(channel: LineChannel, paths: HostPaths, journalPath: String) {
    self.channel = channel
    self.paths = paths
    let access = KernelAccess.make(paths: paths)
    self.kernel = access.writer
    self.modes = ModeEngine(
      paths: paths, kernel: kernel, journalPath: journalPath,
      afterJournalAppend: access.afterJournalAppend)
    self.monitors = MonitorSet(paths: paths)
    self.workloads = WorkloadHost(
      threadSchedFile: access.threadSchedFile,
      schedstatsSwitch: paths.resolve(ProcSched.schedstatsSwitch))
  }

  /// Adds or replaces the handler of `op` (for requests other modules wire in; a name
  /// outside `AgentOp` extends the protocol only for tests).
  package func register(_ op: String, _ handler: @escaping Handler) {
    lock.lock()
    handlers[op] = handler
    lock.unlock()
  }

  /// The hello event every agent sends first.
  ///
  /// - Parameter recovered: the journals of dead agents this agent replayed before it,
  ///   each with what it undid and whether every change read back as undone.
  package static func helloEvent(recovered: [JournalRestorer.JournalOutcome] = []) -> String {
    AgentProtocol.event(
      .hello,
      [
        "protocol": .string(AgentProtocol.version),
        "version": .string(PVBenchVersion.current),
        "pid": .int(Int64(getpid())),
        "recovered": .array(recovered.map(\.json)),
      ])
  }

  /// Replays the journals that agents no longer running left on this host, so a new agent
  /// never starts over CPUs a crashed one took offline. Journals of live agents are left
  /// to them.
  package func recoverLeftovers() -> [JournalRestorer.JournalOutcome] {
    JournalRestorer(paths: paths, kernel: kernel).restoreAll().filter { !$0.skipped }
  }

  /// Sends an event; a gone controller is noticed by the read loop, so errors are dropped.
  package func emit(_ name: AgentEventName, _ fields: [String: JSON]) {
    try? channel.send(AgentProtocol.event(name, fields))
  }

  /// Replays the journals of dead agents, sends hello (saying what it restored), then
  /// serves requests until `shutdown` or the controller disappears.
  ///
  /// Restores every mode change before returning, whatever the ending.
  package func run() -> Ending {
    let recovered = recoverLeftovers()
    do { try channel.send(AgentServer.helloEvent(recovered: recovered)) } catch {
      finish()
      return .controllerGone
    }
    while let line = channel.readLine() {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty { continue }
      let reply = handle(line: trimmed)
      try? channel.send(reply)
      lock.lock()
      let stop = stopRequested
      lock.unlock()
      if stop {
        channel.closeWrite()
        return .shutdown
      }
    }
    finish()
    return .controllerGone
  }

  /// Stops monitors and restores the host (idempotent).
  ///
  /// - Returns: nil when every change read back as undone, else what did not.
  @discardableResult
  package func finish() -> String? {
    workloads.stopAll()
    monitors.stopAll()
    do {
      try modes.restore()
      return nil
    } catch {
      return error.message
    }
  }

  /// Handles one request line and returns the reply line (never throws, never crashes).
  package func handle(line: String) -> String {
    let request: JSON
    do { request = try JSON.parse(line) } catch {
      return AgentProtocol.reply(
        id: .null,
        error: AgentError(
          code: .malformed, message: "The request is not valid JSON: \(Self.clip(line))."))
    }
    let id = request["id"] ?? .null
    guard request.objectValue != nil, id.intValue != nil || id.stringValue != nil else {
      return AgentProtocol.reply(
        id: id,
        error: AgentError(
          code: .malformed,
          message: "The request has no \"id\" (a number or string): \(Self.clip(line))."))
    }
    guard let op = request["op"]?.stringValue else {
      return AgentProtocol.reply(
        id: id,
        error: AgentError(code: .malformed, message: "The request has no \"op\" string."))
    }
    let params = request["params"] ?? .object([:])
    guard params.objectValue != nil else {
      return AgentProtocol.reply(
        id: id,
        error: AgentError(code: .badParams, message: "\"params\" of '\(op)' must be an object."))
    }
    lock.lock()
    let handler = handlers[op]
    let ready = handshakeDone
    let known = handler == nil ? handlers.keys.sorted().joined(separator: ", ") : ""
    lock.unlock()
    guard let handler else {
      return AgentProtocol.reply(
        id: id,
        error: AgentError(
          code: .unknownOp, message: "Unknown op '\(op)'; this agent knows: \(known)."))
    }
    if !ready && op != AgentOp.hello.rawValue {
      return AgentProtocol.reply(
        id: id,
        error: AgentError(
          code: .handshakeRequired,
          message: "Send the 'hello' request with your protocol version before '\(op)'."))
    }
    do {
      return AgentProtocol.reply(id: id, result: try handler(self, params))
    } catch {
      return AgentProtocol.reply(id: id, error: error)
    }
  }

  private static func clip(_ line: String) -> String {
    line.count > 80 ? "'\(line.prefix(80))…'" : "'\(line)'"
  }

  fileprivate func completeHandshake() {
    lock.lock()
    handshakeDone = true
    lock.unlock()
  }

  fileprivate func requestStop() {
    lock.lock()
    stopRequested = true
    lock.unlock()
  }
}

extension AgentServer {
  /// The built-in requests. Workload and stress requests are added with `register`.
  package static let standardHandlers: [String: Handler] = [
    AgentOp.hello.rawValue: { server, params throws(AgentError) in
      guard let version = params["protocol"]?.stringValue,
        let major = AgentProtocol.majorOf(version)
      else {
        throw AgentError(
          code: .badParams,
          message:
            "'hello' needs \"protocol\": \"major.minor\" (this agent speaks \(AgentProtocol.version))."
        )
      }
      guard major == AgentProtocol.major else {
        throw AgentError(
          code: .protocolMismatch,
          message:
            "The controller speaks protocol \(version) but this agent speaks \(AgentProtocol.version); use the same pvbench version on both ends."
        )
      }
      server.completeHandshake()
      return [
        "protocol": .string(AgentProtocol.version),
        "version": .string(PVBenchVersion.current),
        "pid": .int(Int64(getpid())),
        "root": .string(server.paths.root),
        "journal": .string(server.modes.journalPath),
      ]
    },
    AgentOp.ping.rawValue: { _, _ throws(AgentError) in ["pong": true] },
    AgentOp.clock.rawValue: { _, _ throws(AgentError) in
      [
        "monotonic_ns": .int(Int64(bitPattern: pvb_monotonic_ns())),
        "realtime_ns": .int(Int64(bitPattern: pvb_realtime_ns())),
      ]
    },
    AgentOp.facts.rawValue: { server, _ throws(AgentError) in
      HostFacts.read(paths: server.paths, kernel: server.kernel).json
    },
    AgentOp.modeApply.rawValue: { server, params throws(AgentError) in
      try server.modes.apply(params: params, monitors: server.monitors)
    },
    AgentOp.modeVerify.rawValue: { server, _ throws(AgentError) in try server.modes.verify() },
    AgentOp.modeRestore.rawValue: { server, _ throws(AgentError) in try server.modes.restore() },
    AgentOp.sampleStart.rawValue: { server, params throws(AgentError) in
      try server.monitors.startSampling(
        params: params, emitLine: { try? server.channel.send($0) })
    },
    AgentOp.sampleStop.rawValue: { server, _ throws(AgentError) in server.monitors.stopSampling() },
    AgentOp.kmsgWatch.rawValue: { server, params throws(AgentError) in
      try server.monitors.watchKernelLog(params: params, emit: { server.emit($0, $1) })
    },
    AgentOp.shutdown.rawValue: { server, _ throws(AgentError) in
      server.workloads.stopAll()
      server.monitors.stopAll()
      let restored = try server.modes.restore()
      server.requestStop()
      return ["restored": restored]
    },
  ]
}
