import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Finds programs the way a shell does, so every caller resolves a name the same way.
package enum Executables {
  /// The search path when the environment has no `PATH` (what glibc's execvp uses too).
  package static let defaultSearchPath = "/usr/bin:/bin"

  /// Where system tools such as `modprobe` live; a non-root `PATH` often lacks them.
  package static let systemDirectories = ["/usr/sbin", "/sbin"]

  /// The absolute path of the program `name`, or nil when there is none.
  ///
  /// A name containing `/` is checked as it is, the way a shell runs `./x` or `/bin/x`.
  /// Otherwise the directories of `searchPath` are tried in order (empty entries are
  /// skipped rather than meaning the current folder), then `extraDirectories`. A candidate
  /// counts when it is a regular file (or a link to one) that this process may execute.
  /// - Parameters:
  ///   - name: a program name (`gnuplot`) or a path (`/usr/bin/gnuplot`).
  ///   - extraDirectories: searched after `searchPath`, e.g. `systemDirectories`.
  ///   - searchPath: a colon-separated list; the environment's `PATH` by default, or
  ///     `defaultSearchPath` when that is unset.
  package static func find(
    _ name: String, extraDirectories: [String] = [],
    searchPath: String? = ProcessInfo.processInfo.environment["PATH"]
  ) -> String? {
    guard !name.isEmpty else { return nil }
    if name.contains("/") { return isExecutableFile(name) ? name : nil }
    let directories =
      (searchPath ?? defaultSearchPath).split(separator: ":").map(String.init)
      + extraDirectories
    for directory in directories {
      let candidate = directory.hasSuffix("/") ? directory + name : directory + "/" + name
      if isExecutableFile(candidate) { return candidate }
    }
    return nil
  }

  /// True for a regular file (following links) with execute permission for this process;
  /// a directory has the x bit too, but cannot be run.
  private static func isExecutableFile(_ path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return false }
    return access(path, X_OK) == 0
  }
}
