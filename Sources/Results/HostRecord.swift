/// One host as the manifest records it.
public struct HostRecord: Codable, Sendable, Equatable {
  public var name: String
  /// `measure`, `noise` or `idle`.
  public var role: String
  /// `local`, `ssh` or `qemu`.
  public var transport: String
  public var kernelRelease: String
  public var kernelCmdline: String
  public var cpusPresent: String
  public var cpusOnline: String
  public var cores: Int
  public var threadsPerCore: Int
  public var entitled: Int?
  /// Mode interfaces found, e.g. `["hotplug", "cpuset-v2"]`.
  public var interfaces: [String]
  public var stealAccounting: Bool
  /// Journals of dead agents that this host's agent replayed when it started (absent in
  /// manifests written before agents did that).
  public var recovered: [RecoveryRecord]?
  /// The agent that served the host: `swift` or `portable (C) ARCH` (absent in manifests
  /// written before pvbench chose agents by architecture).
  public var agent: String?
  /// The testbed the host belongs to, in a shard run on a testbed and in a merged run
  /// (which lists each testbed's hosts); absent otherwise.
  public var testbed: String?

  public init(
    name: String, role: String, transport: String, kernelRelease: String, kernelCmdline: String,
    cpusPresent: String, cpusOnline: String, cores: Int, threadsPerCore: Int, entitled: Int?,
    interfaces: [String], stealAccounting: Bool, recovered: [RecoveryRecord]? = nil,
    agent: String? = nil
  ) {
    self.agent = agent
    self.name = name
    self.role = role
    self.transport = transport
    self.kernelRelease = kernelRelease
    self.kernelCmdline = kernelCmdline
    self.cpusPresent = cpusPresent
    self.cpusOnline = cpusOnline
    self.cores = cores
    self.threadsPerCore = threadsPerCore
    self.entitled = entitled
    self.interfaces = interfaces
    self.stealAccounting = stealAccounting
    self.recovered = recovered
  }
}
