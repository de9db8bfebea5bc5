import Foundation
import LinuxHost

/// Runs an agent on this machine: `pvbench agent --stdio` from the same binary.
package struct LocalTransport: Sendable {
  /// The pvbench binary (default: this process's own executable, /proc/self/exe).
  package var executable: String = LocalTransport.currentExecutable
  /// Extra agent arguments (`--root DIR`, `--journal FILE` in tests).
  package var agentArguments: [String] = []
  /// Extra environment variables for the agent.
  package var environment: [String: String] = [:]

  /// The running executable's path.
  package static var currentExecutable: String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      ?? CommandLine.arguments[0]
  }

  /// Starts the agent and completes the handshake.
  ///
  /// - Throws: `HostError` naming `host` when the agent cannot start or does not answer.
  package func connect(host: String = "local", timeout: Duration = .seconds(30)) async throws
    -> AgentClient
  {
    let child: ChildProcess
    do {
      child = try ChildProcess(
        executable: executable, arguments: ["agent", "--stdio"] + agentArguments,
        environment: environment)
    } catch {
      throw HostError(
        host: host, message: "cannot start \(executable) agent: \(error.localizedDescription).")
    }
    return try await AgentClient.connected(to: child, host: host, timeout: timeout)
  }

  /// Memberwise.
  package init(
    executable: String = LocalTransport.currentExecutable,
    agentArguments: [String] = [],
    environment: [String: String] = [:]
  ) {
    self.executable = executable
    self.agentArguments = agentArguments
    self.environment = environment
  }
}

extension AgentClient {
  /// A client on a child process's stdio (a local agent, or ssh running one), after the
  /// handshake. Its errors quote the child's stderr; closing it reaps the child.
  /// - Throws: `HostError` when the agent does not say hello or refuses the handshake.
  package static func connected(to child: ChildProcess, host: String, timeout: Duration)
    async throws
    -> AgentClient
  {
    let client = AgentClient(
      host: host, channel: child.channel(), diagnostics: { child.stderr },
      onClose: { child.finish() })
    do {
      _ = try await client.handshake(timeout: timeout)
    } catch {
      client.close()
      throw error
    }
    return client
  }
}
