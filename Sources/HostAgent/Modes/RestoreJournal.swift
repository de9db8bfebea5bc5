import AgentProtocol
import Foundation
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// One change the agent is about to make, with what restores it.
package struct JournalEntry: Sendable, Hashable {
  /// What kind of change.
  package enum Kind: String, Sendable {
    /// The journal's first line: who wrote it.
    case begin
    /// `value` is written to `path`; `original` restores it.
    case write
    /// A cgroup directory is created at `path`; restore moves leftovers to `fallback`
    /// (a `cgroup.procs` file) and removes it.
    case mkdir
    /// Task `pid` moves out of the cgroup whose `cgroup.procs` is `from`.
    case move
    /// Controller `name` is enabled in the `cgroup.subtree_control` at `path`.
    case subtreeAdd = "subtree-add"
    /// Module `name` is loaded.
    case moduleLoad = "module-load"
  }

  package var kind: Kind
  package var path: String = ""
  package var original: String = ""
  package var value: String = ""
  package var pid: Int = 0
  package var from: String = ""
  package var name: String = ""
  package var fallback: String = ""

  /// The journal line.
  package var json: JSON {
    var members: [String: JSON] = ["kind": .string(kind.rawValue)]
    if !path.isEmpty { members["path"] = .string(path) }
    if kind == .write {
      members["original"] = .string(original)
      members["value"] = .string(value)
    }
    if pid != 0 { members["pid"] = .int(Int64(pid)) }
    if !from.isEmpty { members["from"] = .string(from) }
    if !name.isEmpty { members["name"] = .string(name) }
    if !fallback.isEmpty { members["fallback"] = .string(fallback) }
    return .object(members)
  }

  /// Decodes a journal line; nil for anything unreadable (a torn last line after a crash).
  package init?(json: JSON) {
    guard let kind = json["kind"]?.stringValue.flatMap(Kind.init(rawValue:)) else { return nil }
    self.kind = kind
    path = json["path"]?.stringValue ?? ""
    original = json["original"]?.stringValue ?? ""
    value = json["value"]?.stringValue ?? ""
    pid = Int(json["pid"]?.intValue ?? 0)
    from = json["from"]?.stringValue ?? ""
    name = json["name"]?.stringValue ?? ""
    fallback = json["fallback"]?.stringValue ?? ""
  }

  /// An entry of `kind`; fill the fields it uses.
  package init(_ kind: Kind) { self.kind = kind }
}

/// An append-only, fsynced file of the changes an agent makes, written before each change.
///
/// Default place: `/run/pvbench/journal-<pid>.jsonl` under the host root. `/run` is a
/// tmpfs, so a journal never outlives a reboot — and neither do the changes it records.
package final class RestoreJournal: @unchecked Sendable {
  /// The host path (under the root).
  package let path: String
  private let paths: HostPaths
  private var fd: Int32 = -1
  /// Called after each line is written: the crash tests' seam (nil in release builds).
  private let afterAppend: (@Sendable () -> Void)?

  /// A journal at the host path `path` under `paths`; the file is created on first append.
  package init(paths: HostPaths, path: String, afterAppend: (@Sendable () -> Void)? = nil) {
    self.paths = paths
    self.path = path
    self.afterAppend = afterAppend
  }

  deinit { if fd >= 0 { close(fd) } }

  /// The default journal path of the process `pid`.
  package static func defaultPath(pid: Int32 = getpid()) -> String {
    "\(HostPaths.journalDirectory)/journal-\(pid).jsonl"
  }

  /// True when the file exists.
  package var exists: Bool { paths.exists(path) }

  /// Appends one entry and forces it to disk before returning.
  ///
  /// - Throws: `AgentError` (`failed`) when the journal cannot be written; the caller must
  ///   then not make the change.
  package func append(_ entry: JournalEntry) throws(AgentError) {
    if fd < 0 {
      let directory = (paths.resolve(path) as NSString).deletingLastPathComponent
      try? FileManager.default.createDirectory(
        atPath: directory, withIntermediateDirectories: true)
      let created = !paths.exists(path)
      fd = open(paths.resolve(path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
      if fd < 0 {
        throw AgentError(
          code: .failed,
          message:
            "Cannot open the restore journal \(paths.resolve(path)): \(String(cString: strerror(errno))); nothing was changed."
        )
      }
      if created {
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY)
        if dirFD >= 0 {
          fsync(dirFD)
          close(dirFD)
        }
        var begin = JournalEntry(.begin)
        begin.pid = Int(getpid())
        begin.name = "pvbench \(PVBenchVersion.current)"
        try writeLine(begin)
      }
    }
    try writeLine(entry)
    afterAppend?()
  }

  private func writeLine(_ entry: JournalEntry) throws(AgentError) {
    let bytes = Array((entry.json.serialized + "\n").utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    if written != bytes.count || fsync(fd) != 0 {
      throw AgentError(
        code: .failed,
        message:
          "Writing the restore journal \(paths.resolve(path)) failed: \(String(cString: strerror(errno))); nothing more was changed."
      )
    }
  }

  /// The entries in the file (a torn last line is skipped).
  package func entries() -> [JournalEntry] {
    RestoreJournal.entries(text: paths.read(path) ?? "")
  }

  /// The entries of a journal text.
  package static func entries(text: String) -> [JournalEntry] {
    text.split(separator: "\n").compactMap { line in
      (try? JSON.parse(line)).flatMap(JournalEntry.init(json:))
    }
  }

  /// Closes and deletes the file (after a verified restore).
  package func remove() {
    if fd >= 0 {
      close(fd)
      fd = -1
    }
    unlink(paths.resolve(path))
  }

  /// Host paths of every journal file in the default directory under `paths`.
  package static func leftovers(paths: HostPaths) -> [String] {
    paths.list(HostPaths.journalDirectory)
      .filter { $0.hasPrefix("journal-") && $0.hasSuffix(".jsonl") }
      .sorted()
      .map { "\(HostPaths.journalDirectory)/\($0)" }
  }
}
