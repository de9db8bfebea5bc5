import ArgumentParser
import HostAgent
import LinuxHost

extension PVBench {
  struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "restore",
      abstract: "Replay a restore journal left on this host by a crashed agent.",
      discussion: """
        Puts CPUs back online, removes masks, unloads the steal governor and removes the \
        cpusets pvbench made, in reverse order, then reads everything back. Journals live in \
        /run/pvbench/journal-PID.jsonl; a journal is deleted once its restore is verified. \
        Safe to run twice: the second run prints 'nothing to restore'. Journals of a running \
        agent are left to that agent.
        """
    )

    @Option(help: "Root of the sysfs/procfs/cgroup tree (tests point it at a fake tree).")
    var root: String = "/"

    @Option(help: "Replay only this journal (a path under the root).")
    var journal: String?

    func validate() throws {
      if !root.hasPrefix("/") {
        throw ValidationError("'--root' must be an absolute path, got '\(root)'.")
      }
    }

    func run() async throws {
      let paths = HostPaths(root: root)
      if let journal, !paths.exists(journal) {
        printToStandardError(
          "pvbench restore: no journal at '\(paths.resolve(journal))'; nothing to restore.")
        return
      }
      let outcomes = JournalRestorer(paths: paths, kernel: KernelAccess.make(paths: paths).writer)
        .restoreAll(journal: journal)
      if outcomes.isEmpty {
        print("nothing to restore")
        return
      }
      var failures: [String] = []
      for outcome in outcomes {
        let file = paths.resolve(outcome.journal)
        if outcome.skipped {
          print("\(file): skipped, its agent is still running and restores itself")
        } else if outcome.problems.isEmpty {
          print(
            "\(file): restored \(outcome.undone) change\(outcome.undone == 1 ? "" : "s"), verified")
        } else {
          failures.append(
            (["pvbench restore: \(file) could not be fully restored; the journal is kept."]
              + outcome.problems.map { "  \($0)" }).joined(separator: "\n"))
        }
      }
      if !failures.isEmpty {
        throw CommandFailure(.runtimeFailure, failures.joined(separator: "\n"))
      }
    }
  }
}
