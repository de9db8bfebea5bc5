import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// Undoes the changes of a journal in reverse order, then checks they are undone.
///
/// Replaying is idempotent: a change that never happened (the agent died between journaling
/// and acting) or that is already undone is skipped (ENOENT, ESRCH, module not loaded).
package struct JournalReplayer: Sendable {
  package let paths: HostPaths
  package let kernel: any SysfsWriter

  /// What a replay did.
  package struct Outcome: Sendable, Hashable {
    /// Steps that changed something.
    package var undone = 0
    /// Steps with nothing left to undo.
    package var skipped = 0
    /// Full sentences for steps that failed, and for read-backs that do not match.
    package var problems: [String] = []
  }

  /// Replays `entries` in reverse and verifies the result.
  package func replay(_ entries: [JournalEntry]) -> Outcome {
    var outcome = Outcome()
    // Incremental steps write one file several times; the earliest write of each path holds
    // the original, and undoing only that one restores it without replaying every step.
    var firstWrite: [String: Int] = [:]
    for (index, entry) in entries.enumerated() where entry.kind == .write {
      firstWrite[entry.path] = firstWrite[entry.path] ?? index
    }
    for (index, entry) in entries.enumerated().reversed() {
      if entry.kind == .write && firstWrite[entry.path] != index {
        outcome.skipped += 1
        continue
      }
      do {
        if try undo(entry) { outcome.undone += 1 } else { outcome.skipped += 1 }
      } catch {
        outcome.problems.append("Undoing \(entry.kind.rawValue) failed: \(error)")
      }
    }
    outcome.problems += verify(entries)
    return outcome
  }

  private func undo(_ entry: JournalEntry) throws(KernelError) -> Bool {
    switch entry.kind {
    case .begin:
      return false
    case .write:
      guard paths.exists(entry.path) else { return false }
      if matches(entry) { return false }
      let value = entry.original.isEmpty ? "\n" : entry.original
      try kernel.write(value, to: entry.path)
      return true
    case .move:
      guard paths.exists("/proc/\(entry.pid)") else { return false }
      do {
        try kernel.write("\(entry.pid)", to: entry.from)
      } catch  where error.errno == ESRCH || error.errno == ENOENT {
        return false
      }
      return true
    case .mkdir:
      guard paths.exists(entry.path) else { return false }
      let left = (paths.read("\(entry.path)/cgroup.procs") ?? "").split(separator: "\n")
      for pid in left {
        do { try kernel.write(String(pid), to: entry.fallback) } catch  where error.errno == ESRCH {
        }
      }
      try kernel.removeDirectory(entry.path)
      return true
    case .subtreeAdd:
      guard paths.exists(entry.path) else { return false }
      let enabled = (paths.read(entry.path) ?? "").split(whereSeparator: \.isWhitespace)
      guard enabled.contains(Substring(entry.name)) else { return false }
      try kernel.write("-\(entry.name)", to: entry.path)
      return true
    case .moduleLoad:
      guard kernel.moduleLoaded(entry.name) else { return false }
      try kernel.unloadModule(entry.name)
      return true
    }
  }

  /// True when the file at `entry.path` reads back as `entry.original`.
  private func matches(_ entry: JournalEntry) -> Bool {
    guard let now = paths.readTrimmed(entry.path) else { return false }
    let original = entry.original.trimmingCharacters(in: .whitespacesAndNewlines)
    if now == original { return true }
    if let a = CPUSet.cpus(parsing: now), let b = CPUSet.cpus(parsing: original) { return a == b }
    return false
  }

  /// Sentences for every journaled change that is not undone now.
  package func verify(_ entries: [JournalEntry]) -> [String] {
    var problems: [String] = []
    var checked: Set<String> = []
    for entry in entries {
      switch entry.kind {
      case .begin:
        break
      case .write:
        // Only the earliest write of a path holds the original (see `replay`).
        guard checked.insert(entry.path).inserted else { continue }
        if paths.exists(entry.path) && !matches(entry) {
          problems.append(
            "\(entry.path) reads '\(paths.readTrimmed(entry.path) ?? "")' instead of '\(entry.original.trimmingCharacters(in: .whitespacesAndNewlines))'."
          )
        }
      case .mkdir:
        if paths.exists(entry.path) { problems.append("The cgroup \(entry.path) still exists.") }
      case .subtreeAdd:
        let enabled = (paths.read(entry.path) ?? "").split(whereSeparator: \.isWhitespace)
        if enabled.contains(Substring(entry.name)) {
          problems.append("\(entry.path) still enables '\(entry.name)'.")
        }
      case .moduleLoad:
        if kernel.moduleLoaded(entry.name) {
          problems.append("The module \(entry.name) is still loaded.")
        }
      case .move:
        break  // Checked through the mkdir entry: the cgroup is gone, so nobody is in it.
      }
    }
    return problems
  }
}
