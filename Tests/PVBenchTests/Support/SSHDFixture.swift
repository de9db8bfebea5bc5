import AgentProtocol
import Controller
import Experiments
import Foundation
import HostAgent
import LinuxHost
import Results
import Vocabulary
import Workloads

/// A real sshd on a free loopback port with throwaway host and user keys.
///
/// Root login is allowed in its config; it runs until `stop()` (always call it).
final class SSHDFixture: @unchecked Sendable {
  let directory: String
  let port: Int
  /// sshd, spawned and reaped without Foundation's Process, whose exit watcher would hold a
  /// cooperative-pool thread in a blocking wait for as long as sshd runs.
  let process: ChildProcess
  /// An ssh config with `Host pvtest` pointing at this sshd.
  let configFile: String

  /// Generates keys, writes the config, starts sshd and waits until it accepts connections.
  /// - Parameters:
  ///   - sftp: offer the SFTP subsystem (many lab hosts do not).
  ///   - environment: variables sshd sets in every session (`SetEnv`), e.g. a `PATH` whose
  ///     first folder answers `uname -m` for another machine.
  init(sftp: Bool = true, environment: [String: String] = [:]) throws {
    directory = NSTemporaryDirectory() + "pvbench-sshd-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for key in ["host_key", "user_key"] {
      let result = ChildProcess.run(
        "/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(directory)/\(key)"])
      guard result.status == 0 else { throw FixtureError(message: "ssh-keygen: \(result.stderr)") }
    }
    try FileManager.default.copyItem(
      atPath: "\(directory)/user_key.pub", toPath: "\(directory)/authorized_keys")
    port = try SSHDFixture.freePort()
    let config = """
      Port \(port)
      ListenAddress 127.0.0.1
      HostKey \(directory)/host_key
      AuthorizedKeysFile \(directory)/authorized_keys
      PidFile \(directory)/sshd.pid
      StrictModes no
      UsePAM no
      PermitRootLogin yes
      PasswordAuthentication no
      KbdInteractiveAuthentication no
      \(sftp ? "Subsystem sftp internal-sftp" : "")
      \(environment.isEmpty ? "" : "SetEnv " + environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
      LogLevel ERROR

      """
    try config.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
    configFile = "\(directory)/ssh_config"
    let user = String(cString: getpwuid(getuid())!.pointee.pw_name)
    try """
    Host pvtest
      HostName 127.0.0.1
      Port \(port)
      User \(user)
      IdentityFile \(directory)/user_key
      IdentitiesOnly yes
      UserKnownHostsFile /dev/null
      StrictHostKeyChecking no
      LogLevel ERROR

    """.write(toFile: configFile, atomically: true, encoding: .utf8)
    // sshd refuses to start without its privilege-separation folder (the package makes it).
    try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    process = try ChildProcess(
      executable: "/usr/sbin/sshd", arguments: ["-D", "-e", "-f", "\(directory)/sshd_config"])
    let deadline = Date().addingTimeInterval(10)
    while !SSHDFixture.accepts(port: port) {
      if Date() > deadline || !process.isRunning {
        stop()
        throw FixtureError(message: "sshd did not listen on 127.0.0.1:\(port)")
      }
      usleep(50_000)
    }
  }

  /// Transport options that use the fixture's config.
  var options: [String] { ["-F", configFile] }

  /// Stops sshd (and with it every session and control master) and deletes the folder.
  func stop() {
    if process.isRunning {
      kill(process.pid, SIGTERM)
      process.finish(grace: 5)
    }
    try? FileManager.default.removeItem(atPath: directory)
  }

  struct FixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
  }

  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard bound else { throw FixtureError(message: "no free loopback port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }

  static func accepts(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
      }
    }
  }
}
