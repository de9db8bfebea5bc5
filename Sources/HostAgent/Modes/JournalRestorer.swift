import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// Replays restore journals left on a host by agents that died (`pvbench restore`).
package struct JournalRestorer: Sendable {
  package let paths: HostPaths
  package let kernel: any SysfsWriter

  /// What happened to one journal.
  package struct JournalOutcome: Sendable, Hashable {
    package var journal: String
    package var undone: Int
    package var skipped: Bool
    package var problems: [String]

    /// True when the journal was replayed and every change read back as undone.
    package var restored: Bool { !skipped && problems.isEmpty }

    /// The report as the agent's hello carries it (`recovered`, docs/agent-protocol.md).
    package var json: JSON {
      [
        "journal": .string(journal), "undone": .int(Int64(undone)),
        "restored": .bool(restored), "problems": .array(problems.map(JSON.string)),
      ]
    }

    /// Memberwise.
    package init(
      journal: String,
      undone: Int,
      skipped: Bool,
      problems: [String]
    ) {
      self.journal = journal
      self.undone = undone
      self.skipped = skipped
      self.problems = problems
    }
  }

  /// Replays `journal` (a host path) or every journal in /run/pvbench under the root.
  ///
  /// Journals of a live agent are skipped (that agent restores itself). A journal is
  /// deleted only when every change reads back as restored.
  package func restoreAll(journal: String? = nil) -> [JournalOutcome] {
    let files = journal.map { [$0] } ?? RestoreJournal.leftovers(paths: paths)
    return files.map(restore)
  }

  private func restore(_ file: String) -> JournalOutcome {
    let journal = RestoreJournal(paths: paths, path: file)
    let entries = journal.entries()
    if let owner = entries.first(where: { $0.kind == .begin })?.pid, owner != getpid(),
      JournalRestorer.isLiveAgent(pid: owner)
    {
      return JournalOutcome(journal: file, undone: 0, skipped: true, problems: [])
    }
    let outcome = JournalReplayer(paths: paths, kernel: kernel).replay(entries)
    if outcome.problems.isEmpty { journal.remove() }
    return JournalOutcome(
      journal: file, undone: outcome.undone, skipped: false, problems: outcome.problems)
  }

  /// True when `pid` runs pvbench now (read from this machine's real /proc).
  package static func isLiveAgent(pid: Int) -> Bool {
    guard kill(pid_t(pid), 0) == 0 || errno == EPERM,
      let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let close = stat.lastIndex(of: ")")
    else { return false }
    // A zombie (killed, not yet reaped by its parent) restores nothing any more.
    let state = stat[stat.index(after: close)...].split(separator: " ").first
    return stat.contains("(pvbench") && state != "Z" && state != "X"
  }

  /// Memberwise.
  package init(
    paths: HostPaths,
    kernel: any SysfsWriter
  ) {
    self.paths = paths
    self.kernel = kernel
  }
}
