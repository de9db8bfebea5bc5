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
  package let events: AsyncStream<HostEvent>
  private let continuation: AsyncStream<HostEvent>.Continuation
  private let lock = NSLock()
  private var closing = false
  private var coreLists: [[Int]] = []
  package var cores: [[Int]] { lock.withLock { coreLists } }
  /// Extra work when the session ends (a guest to shut down, a steal sampler to stop).
  private let onClose: @Sendable () async -> Void

  package init(
    name: String, client: AgentClient, transport: String, entitled: Int?,
    onClose: @escaping @Sendable () async -> Void = {}
  ) {
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
    case "interval":
      return decode(json["interval"], SchbenchInterval.self).map(HostEvent.interval)
    case "workload-done":
      return .workloadDone
    case "edge":
      return decode(json["edge"], PhaseEdge.self).map(HostEvent.edge)
    case "phase":
      return decode(json["report"], PhaseReport.self).map(HostEvent.phase)
    case CPUSample.eventName:
      return CPUSample(event: json).map {
        .cpuSample(
          monotonicNanoseconds: $0.monotonicNanoseconds, total: $0.total, perCPU: $0.perCPU)
      }
    case "kernel-warning":
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
    let facts = try await client.request("facts")
    let cores = facts["cores"]?.arrayValue ?? []
    let lists = cores.compactMap { $0.stringValue.flatMap(CPUSet.parse) }
    lock.withLock { coreLists = lists }
    var entitledCores = entitled
    if entitledCores == nil, let capacity = facts["entitled_capacity"]?.doubleValue {
      entitledCores = Int(capacity.rounded(.down))
    }
    // Watch the kernel log for the validity gate; a host without /dev/kmsg access is
    // still usable, so a refusal here is not fatal.
    _ = try? await client.request("kmsg.watch")
    return HostRecord(
      name: name, role: role, transport: transport,
      kernelRelease: facts["kernel_release"]?.stringValue ?? "",
      kernelCmdline: facts["cmdline"]?.stringValue ?? "",
      cpusPresent: facts["cpus_present"]?.stringValue ?? "",
      cpusOnline: facts["cpus_online"]?.stringValue ?? "", cores: cores.count,
      threadsPerCore: Int(facts["threads_per_core"]?.intValue ?? 1), entitled: entitledCores,
      interfaces: facts["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? [],
      stealAccounting: facts["steal_column"]?.boolValue ?? false)
  }

  package func monotonicNanoseconds() async throws -> UInt64 {
    let reply = try await client.request("clock", timeout: .seconds(10))
    guard let value = reply["monotonic_ns"]?.intValue else {
      throw HostError(host: name, message: "the agent's clock reply has no monotonic_ns.")
    }
    return UInt64(value)
  }

  package func apply(_ mode: ModeSpec, entitled: Int?, measureEvacuation: Bool) async throws
    -> ModeChange
  {
    var params: [String: JSON] = [
      "mode": .string(mode.kind == .governor ? "out-of-box" : mode.kind.rawValue),
      "host": .string(name), "evacuation": .bool(measureEvacuation),
      "evacuation_timeout_ms": 10_000,
    ]
    if let cpus = mode.cpus { params["cpus"] = .string(cpus.description) }
    if let entitled = entitled ?? self.entitled { params["entitled"] = .int(Int64(entitled)) }
    if let interface = mode.paravirtInterface { params["interface"] = .string(interface.rawValue) }
    if let interval = mode.interval {
      params["interval_ms"] = .int(Int64(interval.nanoseconds / 1_000_000))
    }
    if let high = mode.high { params["high_threshold"] = .int(Int64(high.percent * 100)) }
    if let low = mode.low { params["low_threshold"] = .int(Int64(low.percent * 100)) }
    let reply = try await client.request("mode.apply", .object(params))
    var timing = ModeChange(
      milliseconds: reply["apply_ms"]?.doubleValue ?? 0, verified: true,
      evacuationMilliseconds: reply["evacuation_ms"]?.doubleValue,
      detail: "avoids CPUs \(reply["avoided"]?.stringValue ?? "-")")
    do {
      _ = try await client.request("mode.verify")
    } catch {
      timing.verified = false
      timing.detail = "\(error)"
    }
    return timing
  }

  package func restore() async throws -> ModeChange {
    let reply = try await client.request("mode.restore")
    var timing = ModeChange(
      milliseconds: reply["restore_ms"]?.doubleValue ?? 0, verified: true,
      evacuationMilliseconds: nil, detail: "undid \(reply["undone"]?.intValue ?? 0) changes")
    do {
      _ = try await client.request("mode.verify")
    } catch {
      timing.verified = false
      timing.detail = "\(error)"
    }
    return timing
  }

  package func startSchbench(_ options: SchbenchOptions, streamInterval: Duration) async throws {
    let milliseconds = streamInterval.wholeMilliseconds
    _ = try await client.request(
      "workload.start",
      ["options": JSON.encode(options), "stream_interval_ms": .int(milliseconds)])
  }

  package func stopSchbench() async throws { _ = try await client.request("workload.stop") }

  package func startStress(_ options: StressOptions) async throws {
    _ = try await client.request("stress.start", ["options": JSON.encode(options)])
  }

  package func stopStress() async throws {
    _ = try await client.request("stress.stop", timeout: .seconds(30))
  }

  package func startSampling(interval: Duration) async throws {
    let milliseconds = interval.wholeMilliseconds
    _ = try await client.request("sample.start", ["interval_ms": .int(milliseconds)])
  }

  package func stopSampling() async throws { _ = try await client.request("sample.stop") }

  package func close() async {
    lock.withLock { closing = true }
    _ = try? await client.request("shutdown", timeout: .seconds(60))
    client.close()
    await onClose()
  }
}
