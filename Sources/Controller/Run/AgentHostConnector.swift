import AgentProtocol
import Experiments
import Foundation
import LinuxHost
import LocalVMs

/// Connects to each kind of host with the transport its entry in the experiment names.
///
/// qemu hosts are booted together on first use (one image, one host pool) and shut down
/// by `shutdown(consoleFolder:)`, which the run calls however it ends.
package final class AgentHostConnector: HostConnector, @unchecked Sendable {
  /// The pvbench binary agents run (this one, unless a test says otherwise).
  package let executable: String
  private let lock = NSLock()
  private var current: Experiment
  private var guests: LocalGuests?
  /// `Experiment.guestBootKey` of the guests booted now.
  private var bootedKey: String?
  private var stealTasks: [Task<Void, Never>] = []

  package init(experiment: Experiment, executable: String = LocalTransport.currentExecutable) {
    self.current = experiment
    self.executable = executable
  }

  /// The experiment (or sweep point) the next guest boot follows.
  package var experiment: Experiment { lock.withLock { current } }

  package func guestsNeedReboot(for experiment: Experiment) -> Bool {
    lock.withLock { guests != nil && bootedKey != experiment.guestBootKey }
  }

  package func boot(as experiment: Experiment) {
    lock.withLock { current = experiment }
  }

  package func connect(_ host: HostSpec) async throws -> any HostSession {
    switch host.transport {
    case .local(let root):
      var transport = LocalTransport(executable: executable)
      // A fake kernel tree; the agent keeps its journal under the same root.
      if let root { transport.agentArguments = ["--root", root] }
      let client = try await transport.connect(host: host.name)
      return AgentHostSession(
        name: host.name, client: client, transport: "local", entitled: host.entitled,
        agent: AgentKind.swift.description)
    case .ssh(let ssh):
      var transport = SSHTransport(
        destination: ssh.user.map { "\($0)@\(ssh.host)" } ?? ssh.host, port: ssh.port)
      transport.localBinary = executable
      transport.remotePvbench = ssh.pvbench
      transport.hostKey = host.name
      let ssh = transport
      let (client, agent) = try await ssh.connectAgent(host: host.name)
      return AgentHostSession(
        name: host.name, client: client, transport: "ssh", entitled: host.entitled,
        agent: agent.description, onClose: { ssh.closeMaster() })
    case .qemu:
      return try await connectGuest(host)
    }
  }

  // MARK: qemu

  package var accelerator: String? {
    lock.withLock { guests?.accelerator.accelerator.rawValue.uppercased() }
  }

  /// The qemu hosts that take part in the run (measure, noise and fold roles).
  package var guestHosts: [HostSpec] {
    let names = experiment.roleHosts.map(\.name)
    return experiment.hosts.filter { host in
      guard names.contains(host.name), case .qemu = host.transport else { return false }
      return true
    }
  }

  private func bootGuests() throws -> LocalGuests {
    if let guests = lock.withLock({ guests }) { return guests }
    let experiment = self.experiment
    // What a pvbench killed with SIGKILL could not end: its guest folders and empty pool
    // cgroups (its QEMU processes died with it).
    VMCache.removeLeftoverFolders()
    HostPool.removeLeftovers()
    let requests = guestHosts.compactMap { host -> GuestRequest? in
      guard case .qemu(let qemu) = host.transport else { return nil }
      return GuestRequest(
        name: host.name, vcpus: qemu.vcpus, memoryMiB: Int(qemu.memory.megabytes),
        entitledCPUs: host.entitlement ?? Double(qemu.vcpus), capped: qemu.capped,
        uncappedWeight: host.effectiveUncappedWeight, threadsPerCore: qemu.threadsPerCore,
        kernelArguments: qemu.append ?? "", kernel: qemu.kernel,
        architecture: qemu.architecture)
    }
    let poolCPUs: [Int32]
    switch experiment.pool?.hostCPUs ?? .all {
    case .list(let cpus): poolCPUs = cpus.map { Int32($0) }
    default: poolCPUs = HostPool.onlineCPUs()
    }
    let booted = try LocalGuests.boot(
      requests, poolCPUs: poolCPUs, poolSettings: Self.poolSettings(experiment),
      binaryPath: executable)
    lock.withLock {
      guests = booted
      bootedKey = experiment.guestBootKey
    }
    return booted
  }

  /// The pool model and window `experiment` (or a sweep point) asks for.
  static func poolSettings(_ experiment: Experiment) -> HostPool.Settings {
    HostPool.Settings(
      model: experiment.poolModel,
      windowMicroseconds: Int(experiment.poolWindow.nanoseconds / 1000))
  }

  package func configurePool(for experiment: Experiment) throws -> String? {
    guard let pool = lock.withLock({ guests?.pool }) else { return nil }
    let settings = Self.poolSettings(experiment)
    guard pool.settings != settings else { return nil }
    try pool.configure(settings)
    return "pool \(settings.model.rawValue)"
      + (settings.model == .dispatch ? ", window \(experiment.poolWindow)" : "")
  }

  private func connectGuest(_ host: HostSpec) async throws -> any HostSession {
    let booted = try bootGuests()
    guard let index = booted.guests.firstIndex(where: { $0.configuration.name == host.name })
    else { throw RunError("\(host.name): the guest was not booted") }
    let guest = booted.guests[index]
    let channel = booted.channels[index]
    let hello = try? JSON.parse(channel.hello)
    let client = AgentClient(
      host: host.name,
      channel: LineChannel(readFD: channel.fileDescriptor, writeFD: channel.fileDescriptor),
      diagnostics: { guest.consoleTail().joined(separator: "\n") }, hello: hello)
    _ = try await client.handshake(timeout: .seconds(30))
    let kind: AgentKind =
      guest.configuration.architecture == .ppc64le ? .portable(architecture: "ppc64le") : .swift
    let session = AgentHostSession(
      name: host.name, client: client, transport: "qemu", entitled: host.entitled,
      agent: "\(kind), in the guest image")
    // Host-side steal: the run-queue wait of the guest's vCPU threads, once a second.
    let steal = HostSideSteal(pid: guest.pid, threads: guest.vcpuThreads())
    let task = Task { [weak session] in
      while !Task.isCancelled {
        try? await Task.sleep(for: .seconds(1))
        guard let session else { return }
        let sample = steal.sample()
        if let mean = sample.mean {
          session.inject(
            .hostSteal(
              controllerNanoseconds: monotonicNow(), percent: mean, vcpus: sample.cumulative))
        }
      }
    }
    lock.withLock { stealTasks.append(task) }
    return session
  }

  /// Shuts every guest down and removes the host pool; keeps their consoles in `consoleFolder`.
  package func shutdown(consoleFolder: String?) {
    let (booted, tasks) = lock.withLock {
      let running = (guests, stealTasks)
      guests = nil
      bootedKey = nil
      stealTasks = []
      return running
    }
    tasks.forEach { $0.cancel() }
    booted?.shutdown(consoleFolder: consoleFolder)
    // A boot still under way when the run was interrupted has guests nobody holds yet.
    QEMUGuestRegistry.shared.terminateAll()
  }
}
