import AgentProtocol
import Experiments

extension HostDoctor {
  /// A host `pvbench doctor` names on its command line.
  package enum Target: Sendable, Equatable {
    /// This machine, called `name`, through a local agent on the sysfs/procfs tree under
    /// `root`.
    case local(root: String, name: String)
    /// A host over ssh: `user@host[:port]` or a name from `~/.ssh/config`.
    case ssh(String)
  }

  /// Connects to `target`, examines it for `modes` and closes the connection.
  ///
  /// - Returns: What was found, and whether the agent answered at all: when `connected` is
  ///   false the findings only say why the host could not be reached.
  package func examine(_ target: Target, modes: [ModeRequest]) async -> (
    findings: Findings, connected: Bool
  ) {
    let host: String
    let transportName: String
    let client: AgentClient
    var agent: String?
    var master: SSHTransport?
    do {
      switch target {
      case .ssh(let address):
        var destination = address
        var port: Int?
        if let colon = address.lastIndex(of: ":"),
          let number = Int(address[address.index(after: colon)...])
        {
          destination = String(address[..<colon])
          port = number
        }
        host = destination
        transportName = "ssh"
        let transport = SSHTransport(destination: destination, port: port)
        master = transport
        let connected = try await transport.connectAgent(host: host)
        client = connected.client
        agent = connected.agent.description
      case .local(let root, let name):
        host = name
        transportName = "local"
        // This machine always runs the Swift agent: no choice to report.
        client = try await LocalTransport(agentArguments: ["--root", root]).connect(host: host)
      }
    } catch {
      let name: String
      let transport: String
      switch target {
      case .ssh(let address): (name, transport) = (address, "ssh")
      case .local: (name, transport) = ("local", "local")
      }
      return (Findings(host: name, transport: transport, unreachable: "\(error)"), false)
    }
    var findings = await examine(
      client: client, host: host, transport: transportName, modes: modes)
    findings.agent = agent
    client.close()
    master?.closeMaster()
    return (findings, true)
  }

  /// Examines every host of `experiment` with the modes that fold it (the measure host
  /// unless a mode names others); a host no mode folds only needs to be reachable. qemu
  /// guests are booted for the check and shut down after.
  ///
  /// - Parameter each: Called with each host's findings as soon as they are known.
  /// - Returns: True when every host can run every mode asked of it.
  package func examineHosts(of experiment: Experiment, each: (Findings) -> Void) async -> Bool {
    let connector = AgentHostConnector(experiment: experiment)
    defer { connector.shutdown(consoleFolder: nil) }
    var fit = true
    for (name, _) in experiment.roleHosts {
      guard let host = experiment.host(named: name) else { continue }
      let requests = ModeRequest.requests(
        for: experiment.modes.filter { experiment.foldHosts(of: $0).contains(name) },
        host: host.name, entitled: host.entitled)
      let session: any HostSession
      do {
        session = try await connector.connect(host)
      } catch {
        each(Findings(host: name, transport: host.transport.kind, unreachable: "\(error)"))
        fit = false
        continue
      }
      guard let agent = session as? AgentHostSession else { continue }
      var findings = await examine(
        client: agent.client, host: name, transport: host.transport.kind, modes: requests)
      findings.agent = agent.agent
      await session.close()
      each(findings)
      fit = fit && findings.fit
    }
    return fit
  }
}
