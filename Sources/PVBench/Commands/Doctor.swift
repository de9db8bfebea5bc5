import ArgumentParser
import Foundation

extension PVBench {
  struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "doctor",
      abstract: "Check that every host of an experiment can run it.",
      discussion: """
        Per host: reachable, kernel, CPUs, cores x threads, entitlement, steal \
        accounting, and each mode asked for — supported or why not. Until experiment \
        files are wired in, name one host with --local or --ssh. Exit 0 only when the \
        host can run every mode asked for; 4 when it cannot.
        """
    )

    @Flag(help: "Probe this machine through a local agent.")
    var local = false

    @Option(help: "Probe a host over ssh: user@host[:port] or a name from ~/.ssh/config.")
    var ssh: String?

    @Option(
      name: .customLong("mode"),
      help:
        "A mode to check (out-of-box, hotplug, paravirt, preferred, cpuset); repeat. Default: all.")
    var modes: [String] = []

    @Option(help: "CPUs the modes avoid: a cpulist, 'non-entitled' or 'all'.")
    var cpus = "non-entitled"

    @Option(help: "Cores this host is entitled to (as the experiment file's 'entitled:').")
    var entitled: Int?

    @Option(help: "Root of the sysfs/procfs tree for --local (tests point it at a fake tree).")
    var root: String = "/"

    func validate() throws {
      if local == (ssh != nil) {
        throw ValidationError("Give exactly one of '--local' or '--ssh HOST'.")
      }
      for mode in modes where ModeRequest.Kind(rawValue: mode) == nil {
        let known = ModeRequest.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("'--mode' must be one of \(known), got '\(mode)'.")
      }
      if CPUSelection(cpus) == nil {
        throw ValidationError(
          "'--cpus' must be a cpulist like '0-3,8', 'non-entitled' or 'all', got '\(cpus)'.")
      }
    }

    func run() async throws {
      let kinds =
        modes.isEmpty ? ModeRequest.Kind.allCases : modes.compactMap(ModeRequest.Kind.init)
      let selection = CPUSelection(cpus) ?? .nonEntitled
      let requests = kinds.map { ModeRequest(kind: $0, cpus: selection, entitledCores: entitled) }
      let host: String
      let transportName: String
      let client: AgentClient
      var master: SSHTransport?
      do {
        if let ssh {
          var destination = ssh
          var port: Int?
          if let colon = ssh.lastIndex(of: ":"), let number = Int(ssh[ssh.index(after: colon)...]) {
            destination = String(ssh[..<colon])
            port = number
          }
          host = destination
          transportName = "ssh"
          let transport = SSHTransport(destination: destination, port: port)
          master = transport
          client = try await transport.connect(host: host)
        } else {
          host = ModeEngine.localHostName
          transportName = "local"
          client = try await LocalTransport(agentArguments: ["--root", root]).connect(host: host)
        }
      } catch {
        print(
          HostDoctor.Report(
            host: ssh ?? "local", transport: ssh == nil ? "local" : "ssh",
            unreachable: "\(error)"))
        throw ExitStatus.hostUnfit.exitCode
      }
      let report = await HostDoctor().examine(
        client: client, host: host, transport: transportName, modes: requests)
      client.close()
      master?.closeMaster()
      print(report)
      print(
        report.fit
          ? "verdict: \(host) can run every mode asked for"
          : "verdict: \(host) cannot run every mode asked for")
      if !report.fit { throw ExitStatus.hostUnfit.exitCode }
    }
  }
}
