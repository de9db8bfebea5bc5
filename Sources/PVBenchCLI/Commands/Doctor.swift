import AgentProtocol
import ArgumentParser
import Controller
import Experiments
import Foundation
import HostAgent
import Vocabulary

extension PVBench {
  struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "doctor",
      abstract: "Check that every host of an experiment can run it.",
      discussion: """
        Per host: reachable, kernel, CPUs, cores x threads, entitlement, steal \
        accounting, and each mode asked for — supported or why not. Give an experiment \
        file to check every host it names with the modes it asks for (qemu guests are \
        booted for the check and shut down after), or name one host with --local or \
        --ssh. Exit 0 only when every host can run every mode asked for; 4 when not; \
        2 when the file is invalid.
        """
    )

    @Argument(help: "An experiment file: check every host it names, with its modes.")
    var file: String?

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
      if [file != nil, local, ssh != nil].filter({ $0 }).count != 1 {
        throw ValidationError("Give exactly one of an experiment FILE, '--local' or '--ssh HOST'.")
      }
      for mode in modes where !ModeKind.hostModes.contains(where: { $0.rawValue == mode }) {
        let known = ModeKind.hostModes.map(\.rawValue).joined(separator: ", ")
        throw ValidationError("'--mode' must be one of \(known), got '\(mode)'.")
      }
      if CPUSelection(cpus) == nil {
        throw ValidationError(
          "'--cpus' must be a cpulist like '0-3,8', 'non-entitled' or 'all', got '\(cpus)'.")
      }
    }

    func run() async throws {
      if let file {
        try await checkExperiment(file)
        return
      }
      let kinds =
        modes.isEmpty ? ModeKind.hostModes : modes.compactMap(ModeKind.init)
      let selection = CPUSelection(cpus) ?? .nonEntitled
      let requests = kinds.map { ModeRequest(kind: $0, cpus: selection, entitledCores: entitled) }
      let target: HostDoctor.Target =
        ssh.map { .ssh($0) } ?? .local(root: root, name: ModeEngine.localHostName)
      let (findings, connected) = await HostDoctor().examine(target, modes: requests)
      print(findings)
      if connected {
        print(
          findings.fit
            ? "verdict: \(findings.host) can run every mode asked for"
            : "verdict: \(findings.host) cannot run every mode asked for")
      }
      // The findings and the verdict above say why.
      if !findings.fit { throw CommandFailure(.hostUnfit) }
    }

    /// Checks every host of an experiment with the modes it asks for.
    func checkExperiment(_ path: String) async throws {
      let loaded = try loadExperiment(path)
      let experiment = loaded.experiment
      let fit = await HostDoctor().examineHosts(of: experiment) { print($0) }
      print(
        fit
          ? "verdict: \(experiment.name) can run on these hosts"
          : "verdict: \(experiment.name) cannot run as it is; see the problems above")
      if !fit { throw CommandFailure(.hostUnfit) }
    }
  }
}
