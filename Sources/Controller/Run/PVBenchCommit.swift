import Foundation
import LinuxHost

/// The commit this pvbench was built from, for manifests.
package enum PVBenchCommit {
  /// `PVBENCH_COMMIT` when set (release builds set it), else `git describe --always --dirty`
  /// of the checkout a binary under `.build/` was built in; nil when neither says.
  package static var current: String? {
    if let given = ProcessInfo.processInfo.environment["PVBENCH_COMMIT"], !given.isEmpty {
      return given
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var folder = executable.deletingLastPathComponent()
    // …/<checkout>/.build/<triple>/<config>/pvbench: at most four levels up.
    for _ in 0..<4 {
      folder = folder.deletingLastPathComponent()
      guard FileManager.default.fileExists(atPath: folder.appendingPathComponent(".git").path),
        let git = Executables.find("git"),
        let result = try? ChildProcess.collect(
          git, ["-C", folder.path, "describe", "--always", "--dirty", "--abbrev=12"], timeout: 10),
        result.status == 0
      else { continue }
      let commit = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
      return commit.isEmpty ? nil : commit
    }
    return nil
  }
}
