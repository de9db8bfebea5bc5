import Foundation
import PVBenchTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// `pvbench agent --device` on a pseudo-terminal: the device path a guest's init passes,
/// with a real hang-up when the controller side closes.
@Suite struct AgentDeviceTests {
  /// A minimal fake host: two CPUs, cpu1 hotpluggable.
  func makeRoot() throws -> String {
    let root = NSTemporaryDirectory() + "pvbench-e2e-\(UUID().uuidString.prefix(8))"
    let files = [
      "/sys/devices/system/cpu/online": "0-1\n", "/sys/devices/system/cpu/present": "0-1\n",
      "/sys/devices/system/cpu/possible": "0-1\n", "/sys/devices/system/cpu/cpu1/online": "1\n",
      "/sys/devices/system/cpu/cpu0/topology/thread_siblings_list": "0\n",
      "/sys/devices/system/cpu/cpu1/topology/thread_siblings_list": "1\n",
      "/proc/sys/kernel/osrelease": "6.18.0-e2e\n",
      "/proc/stat": "cpu0 1 0 1 10 0 0 0 0 0 0\ncpu1 1 0 1 10 0 0 0 0 0 0\n",
    ]
    for (path, contents) in files {
      let url = URL(fileURLWithPath: root + path)
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(contents.utf8).write(to: url)
    }
    return root
  }

  /// Reads one line from `fd` within `seconds`, or nil.
  func readLine(_ fd: Int32, _ pending: inout [UInt8], seconds: Double = 10) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if let newline = pending.firstIndex(of: 0x0A) {
        let line = String(decoding: pending[..<newline], as: UTF8.self)
        pending.removeSubrange(...newline)
        return line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
      }
      var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
      guard poll(&pfd, 1, 200) > 0 else { continue }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count <= 0 { return nil }
      pending += buffer[0..<count]
    }
    return nil
  }

  func send(_ fd: Int32, _ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  }

  @Test func servesOnADeviceAndRestoresWhenItHangsUp() throws {
    let root = try makeRoot()
    defer { try? FileManager.default.removeItem(atPath: root) }
    // posix_openpt/unlockpt by hand: Glibc's Swift overlay does not export them.
    let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
    try #require(master >= 0)
    var unlock: Int32 = 0
    var number: UInt32 = 0
    try #require(ioctl(master, UInt(0x4004_5431), &unlock) == 0)  // TIOCSPTLCK
    try #require(ioctl(master, UInt(0x8004_5430), &number) == 0)  // TIOCGPTN
    let device = "/dev/pts/\(number)"
    // The controller side of the pty must not echo or translate either.
    var settings = termios()
    tcgetattr(master, &settings)
    cfmakeraw(&settings)
    tcsetattr(master, TCSANOW, &settings)

    let agent = Process()
    agent.executableURL = CLI.binary
    agent.arguments = ["agent", "--device", device, "--root", root]
    agent.standardOutput = FileHandle.nullDevice
    agent.standardError = FileHandle.nullDevice
    try agent.run()
    defer { if agent.isRunning { agent.terminate() } }

    var pending: [UInt8] = []
    let hello = try #require(readLine(master, &pending))
    #expect(hello.hasPrefix(#"{"event":"hello","pid":"#))
    #expect(hello.hasSuffix(#","protocol":"1.2","recovered":[],"version":"0.1.0"}"#))
    send(master, #"{"id":1,"op":"hello","params":{"protocol":"1.0"}}"#)
    #expect(readLine(master, &pending)?.hasPrefix(#"{"id":1,"ok":true,"#) == true)
    send(master, #"{"id":2,"op":"mode.apply","params":{"mode":"hotplug","cpus":"1"}}"#)
    #expect(readLine(master, &pending)?.hasPrefix(#"{"id":2,"ok":true,"#) == true)
    let cpu1 = root + "/sys/devices/system/cpu/cpu1/online"
    #expect(try String(contentsOfFile: cpu1, encoding: .utf8) == "0\n")

    close(master)  // the controller is gone: the agent sees a hang-up
    // Exited means gone or a zombie: read /proc directly, since Foundation's Process may
    // notice the exit late while other tests spawn processes.
    let pid = agent.processIdentifier
    func exited() -> Bool {
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { return true }
      return stat[stat.index(after: close)...].hasPrefix(" Z")
    }
    let deadline = Date().addingTimeInterval(15)
    while !exited() && Date() < deadline { usleep(20_000) }
    #expect(exited())
    #expect(try String(contentsOfFile: cpu1, encoding: .utf8) == "1\n")
    #expect(
      try String(contentsOfFile: root + "/sys/devices/system/cpu/online", encoding: .utf8)
        == "0-1\n")
  }

  @Test func agentNeedsExactlyOneChannel() throws {
    let result = try CLI.run(["agent"])
    #expect(result.status == 2)
    #expect(result.stderr.hasPrefix("Error: Give exactly one of '--stdio' or '--device PATH'.\n"))
  }
}
