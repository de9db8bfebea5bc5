import AgentProtocol
import Foundation
import LinuxHost
import LocalVMs

/// Runs an agent on a remote host through the OpenSSH client.
///
/// Uses `BatchMode=yes` (never prompts) and a control master (`ControlPersist=60`) so the
/// version probe, the copy and the agent share one connection. Destinations are passed to
/// `ssh` as given, so names from `~/.ssh/config` work. The remote runs the same pvbench
/// version as the controller: when `~/.cache/pvbench/pvbench-VERSION --version` does not
/// answer VERSION, the controller's own binary is streamed there over the ssh channel
/// (`cat >` on the remote: no SFTP subsystem needed). A remote whose `uname -m` is not the
/// machine this binary is built for (ppc64le, s390x, …) gets the portable agent built for
/// its architecture instead, copied the same way (`prepareAgent`). `remotePvbench` names
/// a pvbench already on the remote instead (`hosts.NAME.ssh.pvbench: PATH`).
package struct SSHTransport: Sendable {
  /// `host`, `user@host` or a `Host` name from the ssh config.
  package var destination: String
  /// The port, when not the config's or 22.
  package var port: Int?
  /// Extra ssh/scp options (`-F FILE`, `-i KEY`, `-o …`).
  package var options: [String] = []
  /// Where the binary lives on the remote (relative paths are under the remote home).
  package var remoteDirectory = ".cache/pvbench"
  /// The local binary copied to remotes.
  package var localBinary: String = LocalTransport.currentExecutable
  /// Extra agent arguments.
  package var agentArguments: [String] = []
  /// The folder of the control socket.
  package var controlDirectory = "/tmp"
  /// A pvbench already on the remote, used instead of copying `localBinary`.
  package var remotePvbench: String?
  /// The host's name in the experiment file, for the key named in messages.
  package var hostKey: String?

  package init(destination: String, port: Int? = nil, options: [String] = []) {
    self.destination = destination
    self.port = port
    self.options = options
  }

  /// The remote binary path for this version.
  package var remoteBinary: String { "\(remoteDirectory)/pvbench-\(PVBenchVersion.current)" }

  /// Options shared by ssh and scp.
  package func commonOptions() -> [String] {
    [
      "-o", "BatchMode=yes", "-o", "ControlMaster=auto",
      "-o", "ControlPath=\(controlDirectory)/pvbench-ssh-%C", "-o", "ControlPersist=60",
      "-o", "ConnectTimeout=15", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
    ] + options
  }

  /// The full ssh argument list that runs `command` (already quoted) on the remote.
  package func sshArguments(_ command: String) -> [String] {
    commonOptions() + (port.map { ["-p", "\($0)"] } ?? []) + ["--", destination, command]
  }

  /// Quotes one word for the remote POSIX shell.
  package static func quote(_ word: String) -> String {
    "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  private func fail(_ host: String, _ what: String, _ result: ChildProcess.Output) -> HostError {
    let said = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    return HostError(
      host: host,
      message:
        "\(what) failed (ssh \(destination), exit \(result.status)): \(said.isEmpty ? "ssh printed nothing" : said). Check that 'ssh \(destination)' works without a password prompt."
    )
  }

  /// The pvbench the agent runs on the remote when it is the Swift one.
  package var agentBinary: String { remotePvbench ?? remoteBinary }

  /// The agent a host got: which program, where it is on the remote, and whether this
  /// connection copied it there.
  package struct RemoteAgent: Sendable, Equatable, CustomStringConvertible {
    package var kind: AgentKind
    /// The path the remote shell runs (relative paths are under the remote home).
    package var path: String
    package var copied: Bool
    /// True when it is the pvbench the experiment file gave (`hosts.NAME.ssh.pvbench`).
    package var given = false

    package init(kind: AgentKind, path: String, copied: Bool, given: Bool = false) {
      self.kind = kind
      self.path = path
      self.copied = copied
      self.given = given
    }

    /// `portable (C) ppc64le, copied to PATH`, `swift, already at PATH` or
    /// `swift, given at PATH`.
    package var description: String {
      "\(kind), \(given ? "given at" : copied ? "copied to" : "already at") \(path)"
    }
  }

  /// Makes sure the remote has this pvbench version; streams it there when not.
  ///
  /// - Returns: true when a binary was copied.
  /// - Throws: as `prepareAgent(host:)`.
  @discardableResult
  package func ensureBinary(host: String) throws -> Bool {
    try prepareAgent(host: host).copied
  }

  /// Picks the agent by the remote's `uname -m` and copies it there when the remote lacks it.
  ///
  /// A host of the machine this pvbench is built for gets this pvbench (copied when
  /// `pvbench-VERSION --version` there does not answer VERSION); any other host of an
  /// architecture `scripts/build-agents` builds (ppc64le, s390x, aarch64, x86_64) gets the
  /// portable agent for it (`PortableAgent.locate`), copied as
  /// `pvbench-agent-ARCH-CONTENTHASH` so a second run finds it and copies nothing. A
  /// `remotePvbench` is used as it is: the Swift pvbench of this version, or a portable
  /// agent (which has no `--version`: its `--help` names it).
  /// - Throws: `HostError` quoting ssh's stderr; or saying that no agent serves the
  ///   remote's architecture, or that its portable agent is not built (naming
  ///   `scripts/build-agents`), or that the configured remote pvbench is not this version.
  package func prepareAgent(host: String) throws -> RemoteAgent {
    let given = remotePvbench.map(SSHTransport.quote)
    let remote = SSHTransport.quote(agentBinary)
    // The portable agent answers --version with a usage error; its --help's first line
    // names it.
    let identify =
      given.map {
        "{ \($0) --version || \($0) --help | grep -m1 '^USAGE: pvbench-agent'; } 2>/dev/null"
      } ?? "\(remote) --version 2>/dev/null"
    let probe = ChildProcess.run(
      "/usr/bin/ssh", sshArguments("uname -m; \(identify) || true"), timeout: 60)
    if probe.status != 0 { throw fail(host, "reaching the host", probe) }
    let lines = probe.stdout.split(separator: "\n").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    let architecture = lines.first ?? ""
    let version = lines.dropFirst().first ?? ""
    let key = "hosts.\(hostKey ?? host).ssh.pvbench"
    if let remotePvbench {
      if version == PVBenchVersion.current {
        return RemoteAgent(kind: .swift, path: remotePvbench, copied: false, given: true)
      }
      if lines.dropFirst().contains(where: { $0.hasPrefix("USAGE: pvbench-agent") }) {
        return RemoteAgent(
          kind: .portable(architecture: architecture), path: remotePvbench, copied: false,
          given: true)
      }
      throw HostError(
        host: host,
        message:
          "the pvbench at \(remotePvbench) on the remote answers '\(version.isEmpty ? "nothing" : version)' to --version, not \(PVBenchVersion.current); install pvbench \(PVBenchVersion.current) there, or remove '\(key)' to have this one copied."
      )
    }
    let swiftArchitecture = ELFArchitecture.of(localBinary)
    guard
      let kind = PortableAgent.choice(remote: architecture, swiftArchitecture: swiftArchitecture)
    else {
      throw HostError(
        host: host,
        message:
          "the host is \(architecture.isEmpty ? "of an unknown machine" : architecture) (uname -m), and neither this pvbench (built for \(swiftArchitecture ?? "x86_64")) nor the portable agent (built for \(PortableAgent.architectures.joined(separator: ", "))) runs there; build the portable agent for it from agent/ and give its path on the host as '\(key): PATH' in the experiment file."
      )
    }
    switch kind {
    case .swift:
      if version == PVBenchVersion.current {
        return RemoteAgent(kind: .swift, path: remoteBinary, copied: false)
      }
      try copy(localBinary, to: remoteBinary, host: host, what: "pvbench")
      return RemoteAgent(kind: .swift, path: remoteBinary, copied: true)
    case .portable(let machine):
      let local: String
      let hash: String
      do {
        local = try PortableAgent.locate(architecture: machine, nextTo: localBinary)
        hash = try PortableAgent.contentHash(of: local)
      } catch {
        throw HostError(
          host: host,
          message:
            "the host is \(machine) (uname -m), which gets the portable agent: \(error) Or give a pvbench on the host as '\(key): PATH'."
        )
      }
      let target = "\(remoteDirectory)/pvbench-agent-\(machine)-\(hash)"
      let check = ChildProcess.run(
        "/usr/bin/ssh", sshArguments("test -x \(SSHTransport.quote(target)) && echo present"),
        timeout: 60)
      if check.status == 0, check.stdout.contains("present") {
        return RemoteAgent(kind: kind, path: target, copied: false)
      }
      try copy(local, to: target, host: host, what: "the portable agent")
      return RemoteAgent(kind: kind, path: target, copied: true)
    }
  }

  /// Streams `local` over the ssh channel into `target` on the remote.
  private func copy(_ local: String, to target: String, host: String, what: String) throws {
    let binary: Data
    do {
      binary = try Data(contentsOf: URL(fileURLWithPath: local), options: .alwaysMapped)
    } catch {
      throw HostError(host: host, message: "cannot read \(local) to copy it: \(error).")
    }
    // Into a temporary name, then renamed, so a cut copy never passes for the binary.
    let temporary = SSHTransport.quote("\(target).tmp-\(getpid())")
    let install = ChildProcess.run(
      "/usr/bin/ssh",
      sshArguments(
        "mkdir -p \(SSHTransport.quote(remoteDirectory)) && cat > \(temporary) && chmod 755 \(temporary) && mv -f \(temporary) \(SSHTransport.quote(target))"
      ), input: binary, timeout: 300)
    if install.status != 0 { throw fail(host, "copying \(what) over ssh", install) }
  }

  /// Copies the binary when needed, starts `pvbench agent --stdio` remotely, and shakes hands.
  ///
  /// - Throws: `HostError` naming `host` and quoting ssh's stderr.
  package func connect(host: String, timeout: Duration = .seconds(60)) async throws -> AgentClient {
    try await connectAgent(host: host, timeout: timeout).client
  }

  /// As `connect`, and says which agent the host got.
  package func connectAgent(host: String, timeout: Duration = .seconds(60)) async throws -> (
    client: AgentClient, agent: RemoteAgent
  ) {
    let agent = try prepareAgent(host: host)
    // The portable agent takes the same command line (`agent` is optional there).
    let command = ([agent.path, "agent", "--stdio"] + agentArguments).map(SSHTransport.quote)
      .joined(separator: " ")
    let child: ChildProcess
    do {
      child = try ChildProcess(executable: "/usr/bin/ssh", arguments: sshArguments(command))
    } catch {
      throw HostError(
        host: host, message: "cannot run /usr/bin/ssh: \(error.localizedDescription).")
    }
    let client = try await AgentClient.connected(to: child, host: host, timeout: timeout)
    return (client, agent)
  }

  /// Asks the control master to exit (at the end of a run; otherwise it lingers 60 s).
  package func closeMaster() {
    _ = ChildProcess.run(
      "/usr/bin/ssh",
      commonOptions() + (port.map { ["-p", "\($0)"] } ?? []) + ["-O", "exit", destination],
      timeout: 10)
  }
}
