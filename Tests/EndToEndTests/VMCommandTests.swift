import Foundation
import PVBenchTestSupport
import Testing

/// `pvbench vm …` run as a real binary, with real QEMU (TCG) where a boot is needed.
@Suite(.serialized) struct VMCommandTests {
  static let canBoot =
    FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64")
    && ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []).contains {
      $0.hasPrefix("vmlinuz-")
    }

  private func temporaryFolder() throws -> String {
    var template = Array("/tmp/pvbench-vmcli-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: try #require(made))
  }

  private func qemuProcesses(mentioning needle: String) -> [String] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.filter { entry in
      guard Int32(entry) != nil,
        let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
      else { return false }
      let text = String(decoding: data, as: UTF8.self)
      return text.contains("qemu-system") && text.contains(needle)
    }
  }

  @Test(.enabled(if: canBoot)) func buildPrintsPathSizeAndCacheState() throws {
    let cache = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let env = ["PVBENCH_CACHE_DIR": cache]
    let first = try CLI.run(["vm", "build"], environment: env)
    #expect(first.status == 0, "\(first.stderr)")
    let lines = first.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 2)
    #expect(lines[0].hasPrefix(cache + "/images/") && lines[0].hasSuffix("/initramfs.cpio"))
    #expect(FileManager.default.fileExists(atPath: lines[0]))
    #expect(
      lines[1].range(
        of: #"^size \d+ MiB, kernel \S+, \d+\.\d\d s, built$"#, options: .regularExpression) != nil,
      "\(lines[1])")
    let second = try CLI.run(["vm", "build"], environment: env)
    #expect(second.status == 0)
    let again = second.stdout.split(separator: "\n").map(String.init)
    #expect(again.first == lines[0])
    #expect(again.last?.hasSuffix(", cached") == true)
    let listing = try CLI.run(["vm", "ls"], environment: env)
    #expect(listing.stdout.hasPrefix(lines[0] + "\t"))
  }

  @Test func badInputIsOneClearLine() throws {
    let vcpus = try CLI.run(["vm", "boot", "--vcpus", "0"])
    #expect(vcpus.status == 64)
    #expect(vcpus.stderr.hasPrefix("Error: '--vcpus' must be between 1 and 64, got '0'.\n"))
    let kernel = try CLI.run(["vm", "boot", "--kernel", "/nonexistent/bzImage"])
    #expect(kernel.status == 1)
    #expect(
      kernel.stderr
        == "pvbench vm: The kernel '/nonexistent/bzImage' does not exist or is not readable. "
        + "Give a bzImage path or 'auto'.\n")
  }

  @Test(.enabled(if: canBoot)) func bootReachesTheAgentAndCleansUp() throws {
    let cache = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let console = cache + "/console.log"
    let result = try CLI.run(
      [
        "vm", "boot", "--accel", "tcg", "--vcpus", "2", "--memory", "512M", "--timeout", "120s",
        "--console", console,
      ],
      environment: ["PVBENCH_CACHE_DIR": cache], timeout: 240)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 2)
    #expect(
      lines[0].range(
        of: #"^guest ready in \d+\.\d\d s \(tcg, 2 vCPUs, 512M, kernel \S+, 2 vCPU threads\)$"#,
        options: .regularExpression) != nil, "\(lines[0])")
    #expect(lines[1].hasPrefix(#"hello: {"event":"hello""#))
    #expect(
      try String(contentsOfFile: console, encoding: .utf8).contains(
        "pvbench-init: starting agent on /dev/vport0p1"))
    #expect(qemuProcesses(mentioning: "pvbench-boot").isEmpty)
  }

  @Test(.enabled(if: canBoot)) func interruptStopsTheGuestAndRemovesItsFolder() throws {
    let cache = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: cache) }
    let process = Process()
    process.executableURL = CLI.binary
    process.arguments = ["vm", "boot", "--accel", "tcg", "--timeout", "120s"]
    var env = ProcessInfo.processInfo.environment
    env["PVBENCH_CACHE_DIR"] = cache
    env["TMPDIR"] = cache
    process.environment = env
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    let pid = process.processIdentifier
    // Wait (bounded) until its guest folder exists, so QEMU is running.
    var folder: String?
    for _ in 0..<200 where folder == nil {
      folder = (try? FileManager.default.contentsOfDirectory(atPath: cache))?
        .first { $0.hasPrefix("pvbench-vm-\(pid)-") }
      if folder == nil { usleep(50_000) }
    }
    let guestFolder = try #require(folder)
    usleep(500_000)
    #expect(!qemuProcesses(mentioning: guestFolder).isEmpty)
    kill(pid, SIGINT)
    process.waitUntilExit()
    #expect(process.terminationStatus == 130)
    #expect(!FileManager.default.fileExists(atPath: cache + "/" + guestFolder))
    #expect(qemuProcesses(mentioning: guestFolder).isEmpty)
  }
}
