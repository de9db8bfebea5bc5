import Foundation
import LinuxHost
import Testing

@Suite struct ExecutablesTests {
  /// A folder with `tool` (executable), `plain` (not executable) and `folder` (a directory).
  private static func makeTree() throws -> (root: String, remove: () -> Void) {
    let root = NSTemporaryDirectory() + "pvbench-executables-\(UUID().uuidString)"
    let fm = FileManager.default
    try fm.createDirectory(atPath: root + "/a/folder", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: root + "/b", withIntermediateDirectories: true)
    _ = fm.createFile(
      atPath: root + "/b/tool", contents: Data("#!/bin/sh\n".utf8),
      attributes: [.posixPermissions: 0o755])
    _ = fm.createFile(
      atPath: root + "/a/plain", contents: Data(), attributes: [.posixPermissions: 0o644])
    return (root, { try? fm.removeItem(atPath: root) })
  }

  @Test func searchesThePathInOrderThenTheExtraDirectories() throws {
    let (root, remove) = try Self.makeTree()
    defer { remove() }
    #expect(Executables.find("tool", searchPath: "\(root)/a:\(root)/b") == "\(root)/b/tool")
    #expect(Executables.find("tool", searchPath: "\(root)/a::") == nil)
    #expect(
      Executables.find("tool", extraDirectories: ["\(root)/b/"], searchPath: "\(root)/a")
        == "\(root)/b/tool")
    // Not executable, and a directory: neither counts.
    #expect(Executables.find("plain", searchPath: "\(root)/a") == nil)
    #expect(Executables.find("folder", searchPath: "\(root)/a") == nil)
    #expect(Executables.find("", searchPath: "\(root)/b") == nil)
  }

  @Test func aNameWithASlashIsCheckedDirectly() throws {
    let (root, remove) = try Self.makeTree()
    defer { remove() }
    #expect(Executables.find("\(root)/b/tool", searchPath: "") == "\(root)/b/tool")
    #expect(Executables.find("\(root)/a/plain", searchPath: "\(root)/a") == nil)
    #expect(Executables.find("\(root)/b/missing", searchPath: "\(root)/b") == nil)
  }

  @Test func anUnsetPathFallsBackToUsrBinAndBin() {
    #expect(Executables.find("sh", searchPath: nil) == "/usr/bin/sh")
  }
}
