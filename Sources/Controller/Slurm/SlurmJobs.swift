import Foundation
import LinuxHost

/// A Slurm command that failed; its words are Slurm's.
package struct SlurmError: Error, CustomStringConvertible, Sendable {
  package var description: String
  package init(_ description: String) { self.description = description }
}

/// The Slurm client commands pvbench calls: `sbatch` to submit, `squeue` and `sacct` to
/// ask how jobs are doing. They read the cluster from the usual places (`SLURM_CONF`,
/// `/etc/slurm/slurm.conf`), so pvbench talks to whatever cluster the shell does.
package enum SlurmJobs {
  /// Submits `script` with `extra` options and returns the job id.
  /// - Throws: `SlurmError` when sbatch is missing or refuses the job (its message).
  package static func submit(script: String, extra: [String] = []) throws(SlurmError) -> String {
    guard let sbatch = Executables.find("sbatch") else {
      throw SlurmError(
        "sbatch is not on PATH: install the Slurm client (Debian: slurm-client) and point it "
          + "at the cluster (SLURM_CONF or /etc/slurm/slurm.conf)")
    }
    let output = ChildProcess.run(sbatch, ["--parsable"] + extra + [script], timeout: 60)
    let id = output.stdout.split(separator: "\n").first.map {
      String($0.split(separator: ";").first ?? "")
    }
    guard output.status == 0, let id, !id.isEmpty, id.allSatisfy(\.isNumber) else {
      let why = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
      throw SlurmError("sbatch \(script) failed: \(why.isEmpty ? "exit \(output.status)" : why)")
    }
    return id
  }

  /// States of the given jobs and array tasks by id (`123`, `123_4`): from `squeue` for
  /// jobs still queued or running, then from `sacct` for ended ones. Without accounting
  /// (no slurmdbd) sacct answers nothing and ended jobs are simply absent.
  package static func states(of jobIDs: [String]) -> (states: [String: String], notes: [String]) {
    var states: [String: String] = [:]
    var notes: [String] = []
    guard !jobIDs.isEmpty else { return (states, notes) }
    let list = jobIDs.joined(separator: ",")
    if let squeue = Executables.find("squeue") {
      // -r: one line per array task, pending ones too.
      let output = ChildProcess.run(
        squeue, ["-h", "-r", "-t", "all", "-j", list, "-o", "%i|%T"], timeout: 30)
      if output.status == 0 {
        for (id, state) in parse(output.stdout) { states[id] = state }
      } else {
        notes.append("squeue: " + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
      }
    } else {
      notes.append("squeue is not on PATH")
    }
    if let sacct = Executables.find("sacct") {
      let output = ChildProcess.run(
        sacct, ["-n", "-P", "-X", "-j", list, "-o", "JobID,State"], timeout: 30)
      if output.status == 0 {
        for (id, state) in parse(output.stdout) where states[id] == nil {
          states[id] = state
        }
      } else {
        notes.append(
          "sacct: " + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            + " (ended jobs are shown from their run folders)")
      }
    }
    return (states, notes)
  }

  /// `id|STATE` lines; `CANCELLED by 0` is kept as `CANCELLED`.
  package static func parse(_ text: String) -> [(String, String)] {
    text.split(separator: "\n").compactMap { line in
      let parts = line.split(separator: "|", maxSplits: 1).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard parts.count == 2, !parts[0].isEmpty else { return nil }
      return (parts[0], String(parts[1].split(separator: " ").first ?? ""))
    }
  }
}
