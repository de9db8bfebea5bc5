import Foundation
import LinuxHost

/// A one-node Slurm on this machine for the submit tests: `munged`, `slurmctld` and
/// `slurmd` from Debian's `munge` and `slurm-wlm`, with a generated configuration.
///
/// Everything is its own: a munge key and socket, state and spool folders under a
/// temporary folder, free loopback ports, one license per testbed. The daemons run in
/// the foreground as children bound to this process (they get SIGTERM if it dies), and
/// `stop()` ends them by pid. Clients reach this cluster through `SLURM_CONF` only.
final class SlurmCluster {
  static let daemons = ["munged", "slurmctld", "slurmd"]
  static let clients = ["sbatch", "squeue", "sinfo", "scancel"]

  /// Whether every Slurm and munge binary is installed (Debian puts the daemons in
  /// /usr/sbin, which a user's PATH may lack).
  static var installed: Bool { (daemons + clients).allSatisfy { find($0) != nil } }

  static func find(_ name: String) -> String? {
    Executables.find(name, extraDirectories: ["/usr/sbin", "/sbin"])
  }

  let folder: String
  let configuration: String
  private var children: [(name: String, process: ChildProcess)] = []

  /// `SLURM_CONF` for the client commands and for `pvbench submit`/`status`.
  var environment: [String: String] { ["SLURM_CONF": configuration] }

  /// Starts the three daemons and waits (at most 60 s) until the node is idle.
  /// - Throws: `ClusterError` with the daemons' logs when the node does not come up.
  init(licenses: [String]) throws {
    folder = NSTemporaryDirectory() + "pvbench-slurm-\(UUID().uuidString.prefix(8))"
    configuration = folder + "/slurm.conf"
    let manager = FileManager.default
    for sub in ["state", "spool", "munge"] {
      try manager.createDirectory(atPath: "\(folder)/\(sub)", withIntermediateDirectories: true)
    }
    // munged wants its key private and its socket's folder searchable.
    chmod(folder + "/munge", 0o711)
    var generator = SystemRandomNumberGenerator()
    let key = Data((0..<1024).map { _ in UInt8.random(in: 0...255, using: &generator) })
    try key.write(to: URL(fileURLWithPath: folder + "/munge/munge.key"))
    chmod(folder + "/munge/munge.key", 0o400)
    let user = String(cString: getpwuid(getuid()).pointee.pw_name)

    // The node line from slurmd's own view of this machine, at loopback.
    let probe = ChildProcess.run(Self.find("slurmd")!, ["-C"], timeout: 30)
    guard let node = probe.stdout.split(separator: "\n").first(where: { $0.hasPrefix("NodeName=") })
    else { throw ClusterError("slurmd -C printed no node line: \(probe.stderr)") }
    let nodeName = String(node.split(separator: " ")[0].dropFirst("NodeName=".count))
    let ports = try (0..<2).map { _ in try SSHDFixture.freePort() }
    let text = """
      ClusterName=pvbenchtest
      SlurmctldHost=\(nodeName)(127.0.0.1)
      SlurmctldPort=\(ports[0])
      SlurmdPort=\(ports[1])
      AuthType=auth/munge
      AuthInfo=socket=\(folder)/munge/munge.sock
      CredType=cred/munge
      SlurmUser=\(user)
      SlurmdUser=\(user)
      StateSaveLocation=\(folder)/state
      SlurmdSpoolDir=\(folder)/spool
      SlurmctldPidFile=\(folder)/slurmctld.pid
      SlurmdPidFile=\(folder)/slurmd.pid
      SlurmctldLogFile=\(folder)/slurmctld.log
      SlurmdLogFile=\(folder)/slurmd.log
      ProctrackType=proctrack/linuxproc
      TaskPlugin=task/none
      JobAcctGatherType=jobacct_gather/none
      AccountingStorageType=accounting_storage/none
      MpiDefault=none
      SchedulerType=sched/backfill
      SelectType=select/cons_tres
      SelectTypeParameters=CR_CPU
      ReturnToService=2
      Licenses=\(licenses.map { "\($0):1" }.joined(separator: ","))
      \(node) NodeAddr=127.0.0.1 State=UNKNOWN
      PartitionName=pvtest Nodes=\(nodeName) Default=YES MaxTime=INFINITE State=UP

      """
    try text.write(toFile: configuration, atomically: true, encoding: .utf8)

    do {
      try start(
        "munged",
        [
          "-F", "-f", "--socket=\(folder)/munge/munge.sock",
          "--key-file=\(folder)/munge/munge.key", "--pid-file=\(folder)/munge/munged.pid",
          "--log-file=\(folder)/munge/munged.log", "--seed-file=\(folder)/munge/munged.seed",
        ])
      try waitFor("munged's socket", seconds: 15) {
        manager.fileExists(atPath: "\(self.folder)/munge/munge.sock")
      }
      try start("slurmctld", ["-D", "-i", "-f", configuration])
      try start("slurmd", ["-D", "-f", configuration])
      let sinfo = Self.find("sinfo")!
      try waitFor("the node to be idle", seconds: 60) {
        let state = ChildProcess.run(
          sinfo, ["-h", "-o", "%T"], environment: self.environment, timeout: 10)
        return state.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "idle"
      }
    } catch {
      let logs = log()
      stop()
      throw ClusterError("\(error)\n\(logs)")
    }
  }

  private func start(_ name: String, _ arguments: [String]) throws {
    let process = try ChildProcess(
      executable: Self.find(name)!, arguments: arguments, environment: environment)
    children.append((name, process))
  }

  /// Polls `condition` every 0.2 s for at most `seconds`.
  func waitFor(_ what: String, seconds: Double, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if condition() { return }
      for (name, process) in children where !process.isRunning {
        throw ClusterError("\(name) exited (\(process.terminationStatus)): \(process.stderr)")
      }
      Thread.sleep(forTimeInterval: 0.2)
    }
    throw ClusterError("waited \(Int(seconds)) s for \(what)")
  }

  /// The daemons' log files, for a failure message.
  func log() -> String {
    ["slurmctld.log", "slurmd.log", "munge/munged.log"].map { name in
      let text = (try? String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)) ?? ""
      return "--- \(name)\n" + text.split(separator: "\n").suffix(30).joined(separator: "\n")
    }.joined(separator: "\n")
  }

  /// Cancels what is left of the cluster's jobs, ends the daemons (slurmd first) by pid
  /// and removes the folder. Safe to call twice.
  func stop() {
    if let scancel = Self.find("scancel"), children.contains(where: { $0.name == "slurmctld" }) {
      _ = ChildProcess.run(
        scancel, ["--user", String(cString: getpwuid(getuid()).pointee.pw_name)],
        environment: environment, timeout: 10)
    }
    for (_, process) in children.reversed() where process.isRunning {
      kill(process.pid, SIGTERM)
      process.finish(grace: 10)
    }
    children.removeAll()
    try? FileManager.default.removeItem(atPath: folder)
  }

  deinit { stop() }
}

struct ClusterError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
