import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import Results
import Workloads

/// A `HostSession` over the agent protocol, whatever transport carries the agent.
package final class AgentHostSession: HostSession, @unchecked Sendable {
  package let name: String
  package let client: AgentClient
  package let transport: String
  package let entitled: Int?
  /// The agent serving the host: `swift` or `portable (C) ARCH`, with where it runs.
  package let agent: String?
  package let events: AsyncStream<HostEvent>
  private let continuation: AsyncStream<HostEvent>.Continuation
  private let lock = NSLock()
  private var closing = false
  private var hostFacts: HostFacts?
  package var cores: [[Int]] { lock.withLock { hostFacts?.cores ?? [] } }
  package var entitledCores: Int? { entitled ?? lock.withLock { hostFacts?.entitledCores } }
  /// Extra work when the session ends (a guest to shut down, a steal sampler to stop).
  private let onClose: @Sendable () async -> Void

  package init(
    name: String, client: AgentClient, transport: String, entitled: Int?,
    agent: String? = nil, onClose: @escaping @Sendable () async -> Void = {}
  ) {
    self.agent = agent
    self.name = name
    self.client = client
    self.transport = transport
    self.entitled = entitled
    self.onClose = onClose
    (events, continuation) = AsyncStream.makeStream(of: HostEvent.self)
    Task { [weak self] in
      for await json in client.events {
        guard let self else { return }
        if let event = Self.event(from: json) { self.continuation.yield(event) }
      }
      guard let self else { return }
      let expected = self.lock.withLock { self.closing }
      if !expected {
        self.continuation.yield(.disconnected("the agent went away (\(client.host))"))
      }
      self.continuation.finish()
    }
  }

  /// Feeds an extra event into the stream (host-side steal from the VM layer).
  package func inject(_ event: HostEvent) { continuation.yield(event) }

  package static func event(from json: JSON) -> HostEvent? {
    switch json["event"]?.stringValue {
    case AgentEventName.interval.rawValue:
      return decode(json["interval"], SchbenchInterval.self).map(HostEvent.interval)
    case AgentEventName.workloadDone.rawValue:
      return .workloadDone(WorkloadSchedCounters(json: json["sched"]))
    case AgentEventName.preferred.rawValue:
      return PreferredEvent(event: json).map(HostEvent.preferred)
    case AgentEventName.edge.rawValue:
      return decode(json["edge"], PhaseEdge.self).map(HostEvent.edge)
    case AgentEventName.phase.rawValue:
      return decode(json["report"], PhaseReport.self).map(HostEvent.phase)
    case CPUSample.eventName.rawValue:
      return CPUSample(event: json).map {
        .cpuSample(
          monotonicNanoseconds: $0.monotonicNanoseconds, total: $0.total, perCPU: $0.perCPU)
      }
    case AgentEventName.kernelWarning.rawValue:
      return .kernelWarning(json["message"]?.stringValue ?? json.serialized)
    default:
      return nil
    }
  }

  package static func decode<T: Decodable>(_ json: JSON?, _ type: T.Type) -> T? {
    guard let json else { return nil }
    return try? JSONDecoder().decode(T.self, from: Data(json.serialized.utf8))
  }

  // MARK: HostSession

  package func facts(role: String) async throws -> HostRecord {
    let reply = try await client.request(.facts)
    guard let facts = HostFacts(json: reply) else {
      throw HostError(host: name, message: "the agent's facts reply could not be read.")
    }
    lock.withLock { hostFacts = facts }
    // Watch the kernel log for the validity gate; a host without /dev/kmsg access is
    // still usable, so a refusal here is not fatal.
    _ = try? await client.request(.kmsgWatch)
    return HostRecord(
      name: name, role: role, transport: transport, kernelRelease: facts.kernelRelease,
      kernelCmdline: facts.cmdline, cpusPresent: CPUSet.format(facts.present),
      cpusOnline: CPUSet.format(facts.online), cores: facts.cores.count,
      threadsPerCore: facts.threadsPerCore, entitled: entitledCores,
      interfaces: facts.interfaces, stealAccounting: facts.stealColumn,
      recovered: Self.recovered(hello: client.helloEvent), agent: agent)
  }

  /// What a `mode.apply` reply changed, for the timeline: the CPUs avoided, and for an
  /// incremental step the CPUs it added and removed.
  package static func applyDetail(_ reply: JSON) -> String {
    var detail = "avoids CPUs \(reply["avoided"]?.stringValue ?? "-")"
    if reply["incremental"]?.boolValue == true {
      let added = reply["added"]?.stringValue ?? ""
      let removed = reply["removed"]?.stringValue ?? ""
      detail +=
        " (step: "
        + [added.isEmpty ? nil : "+\(added)", removed.isEmpty ? nil : "-\(removed)"]
        .compactMap { $0 }.joined(separator: " ") + ")"
    }
    return detail
  }

  /// The hello's `recovered` list: journals of dead agents the agent replayed first.
  package static func recovered(hello: JSON) -> [RecoveryRecord] {
    (hello["recovered"]?.arrayValue ?? []).map { item in
      RecoveryRecord(
        journal: item["journal"]?.stringValue ?? "?",
        undone: Int(item["undone"]?.intValue ?? 0),
        restored: item["restored"]?.boolValue ?? false,
        problems: item["problems"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
  }

  package func monotonicNanoseconds() async throws -> UInt64 {
    let reply = try await client.request(.clock, timeout: .seconds(10))
    guard let value = reply["monotonic_ns"]?.intValue else {
      throw HostError(host: name, message: "the agent's clock reply has no monotonic_ns.")
    }
    return UInt64(value)
  }

  package func apply(_ request: ModeRequest) async throws -> ModeChange {
    let reply = try await client.request(.modeApply, request.params)
    var timing = ModeChange(
      milliseconds: reply["apply_ms"]?.doubleValue ?? 0, verified: true,
      evacuationMilliseconds: reply["evacuation_ms"]?.doubleValue,
      detail: Self.applyDetail(reply))
    do {
      _ = try await client.request(.modeVerify)
    } catch {
      timing.verified = false
      timing.detail = "\(error)"
    }
    return timing
  }

  package func restore() async throws -> ModeChange {
    let reply = try await client.request(.modeRestore)
    var timing = ModeChange(
      milliseconds: reply["restore_ms"]?.doubleValue ?? 0, verified: true,
      evacuationMilliseconds: nil, detail: "undid \(reply["undone"]?.intValue ?? 0) changes")
    do {
      _ = try await client.request(.modeVerify)
    } catch {
      timing.verified = false
      timing.detail = "\(error)"
    }
    return timing
  }

  package func startSchbench(_ options: SchbenchOptions, streamInterval: Duration) async throws
    -> Int?
  {
    let milliseconds = streamInterval.wholeMilliseconds
    let reply = try await client.request(
      .workloadStart,
      ["options": JSON.encode(options), "stream_interval_ms": .int(milliseconds)])
    return reply["workers_per_message_thread"]?.intValue.map { Int($0) }
  }

  package func stopSchbench() async throws { _ = try await client.request(.workloadStop) }

  package func startStress(_ options: StressOptions) async throws {
    _ = try await client.request(.stressStart, ["options": JSON.encode(options)])
  }

  package func stopStress() async throws {
    _ = try await client.request(.stressStop, timeout: .seconds(30))
  }

  package func startSampling(interval: Duration) async throws {
    let milliseconds = interval.wholeMilliseconds
    _ = try await client.request(.sampleStart, ["interval_ms": .int(milliseconds)])
  }

  package func stopSampling() async throws { _ = try await client.request(.sampleStop) }

  package func close() async {
    lock.withLock { closing = true }
    _ = try? await client.request(.shutdown, timeout: .seconds(60))
    client.close()
    await onClose()
  }
}
