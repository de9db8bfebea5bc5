import AgentProtocol
import Foundation
import LinuxHost

/// Runs an agent on a remote host through the OpenSSH client.
///
/// Uses `BatchMode=yes` (never prompts) and a control master (`ControlPersist=60`) so the
/// version probe, the copy and the agent share one connection. Destinations are passed to
/// `ssh` as given, so names from `~/.ssh/config` work. The remote runs the same pvbench
/// version as the controller: when `~/.cache/pvbench/pvbench-VERSION --version` does not
/// answer VERSION, the controller's own binary is streamed there over the ssh channel
/// (`cat >` on the remote: no SFTP subsystem needed), after checking that the remote's
/// `uname -m` is the machine the binary is built for. `remotePvbench` names a pvbench
/// already on the remote instead (`hosts.NAME.ssh.pvbench: PATH`).
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

  /// The pvbench the agent runs on the remote.
  package var agentBinary: String { remotePvbench ?? remoteBinary }

  /// Makes sure the remote has this pvbench version; streams it there when not.
  ///
  /// - Returns: true when the binary was copied.
  /// - Throws: `HostError` quoting ssh's stderr, or saying that the remote's architecture
  ///   is not the binary's (and how to give a pvbench for it), or that the configured
  ///   remote pvbench is not this version.
  @discardableResult
  package func ensureBinary(host: String) throws -> Bool {
    let remote = SSHTransport.quote(agentBinary)
    let probe = ChildProcess.run(
      "/usr/bin/ssh", sshArguments("uname -m; \(remote) --version 2>/dev/null || true"),
      timeout: 60)
    if probe.status != 0 { throw fail(host, "reaching the host", probe) }
    let lines = probe.stdout.split(separator: "\n").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    let architecture = lines.first ?? ""
    let version = lines.dropFirst().first ?? ""
    if version == PVBenchVersion.current { return false }
    let key = "hosts.\(hostKey ?? host).ssh.pvbench"
    if let remotePvbench {
      throw HostError(
        host: host,
        message:
          "the pvbench at \(remotePvbench) on the remote answers '\(version.isEmpty ? "nothing" : version)' to --version, not \(PVBenchVersion.current); install pvbench \(PVBenchVersion.current) there, or remove '\(key)' to have this one copied."
      )
    }
    if let local = ELFArchitecture.of(localBinary), !architecture.isEmpty, architecture != local {
      throw HostError(
        host: host,
        message:
          "the host is \(architecture) (uname -m) but this pvbench is built for \(local), so it cannot run there; build pvbench \(PVBenchVersion.current) on a \(architecture) machine (swift build -c release --static-swift-stdlib), copy it to the host and give its path as '\(key): PATH' in the experiment file."
      )
    }
    let binary: Data
    do {
      binary = try Data(contentsOf: URL(fileURLWithPath: localBinary), options: .alwaysMapped)
    } catch {
      throw HostError(host: host, message: "cannot read \(localBinary) to copy it: \(error).")
    }
    // Streamed over the ssh channel into a temporary name, then renamed, so a cut copy
    // never passes for the binary.
    let temporary = SSHTransport.quote("\(remoteBinary).tmp-\(getpid())")
    let install = ChildProcess.run(
      "/usr/bin/ssh",
      sshArguments(
        "mkdir -p \(SSHTransport.quote(remoteDirectory)) && cat > \(temporary) && chmod 755 \(temporary) && mv -f \(temporary) \(SSHTransport.quote(remoteBinary))"
      ), input: binary, timeout: 300)
    if install.status != 0 { throw fail(host, "copying pvbench over ssh", install) }
    return true
  }

  /// Copies the binary when needed, starts `pvbench agent --stdio` remotely, and shakes hands.
  ///
  /// - Throws: `HostError` naming `host` and quoting ssh's stderr.
  package func connect(host: String, timeout: Duration = .seconds(60)) async throws -> AgentClient {
    try ensureBinary(host: host)
    let command = ([agentBinary, "agent", "--stdio"] + agentArguments).map(SSHTransport.quote)
      .joined(separator: " ")
    let child: ChildProcess
    do {
      child = try ChildProcess(executable: "/usr/bin/ssh", arguments: sshArguments(command))
    } catch {
      throw HostError(
        host: host, message: "cannot run /usr/bin/ssh: \(error.localizedDescription).")
    }
    return try await AgentClient.connected(to: child, host: host, timeout: timeout)
  }

  /// Asks the control master to exit (at the end of a run; otherwise it lingers 60 s).
  package func closeMaster() {
    _ = ChildProcess.run(
      "/usr/bin/ssh",
      commonOptions() + (port.map { ["-p", "\($0)"] } ?? []) + ["-O", "exit", destination],
      timeout: 10)
  }
}
