import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import PVBenchTestSupport
import Results
import Testing

/// Helpers shared by the VM test suites: temp folders, the built binary, a fake agent.
enum VMTestSupport {
  /// A fresh folder under /tmp, removed by the caller with `remove(_:)`.
  static func temporaryFolder(_ label: String) throws -> String {
    var template = Array("/tmp/pvbench-vmtest-\(label)-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    return String(cString: try #require(made))
  }

  /// Removes a folder made by `temporaryFolder`.
  static func remove(_ folder: String) {
    try? FileManager.default.removeItem(atPath: folder)
  }

  /// The `pvbench` executable built next to the test bundle.
  static var pvbenchBinary: String { CLI.binary.path }

  /// Writes a shell script that plays the agent: it writes a hello line on the device it is
  /// given (`agent --device PATH`) and then sleeps, so the host side can be tested alone.
  /// With `spin`, it then keeps its vCPU busy instead of sleeping.
  static func fakeAgent(in folder: String, spin: Bool = false) throws -> String {
    let path = folder + (spin ? "/fake-agent-spin" : "/fake-agent")
    let tail = spin ? "while :; do :; done" : "exec sleep 60"
    let script = """
      #!/bin/sh
      echo '{"event":"hello","agent":"fake","device":"'"$3"'"}' > "$3"
      \(tail)

      """
    try script.write(toFile: path, atomically: true, encoding: .utf8)
    chmod(path, 0o755)
    return path
  }

  /// The kernel the tests boot (`auto`).
  static func kernel() throws -> GuestKernel {
    try GuestKernel.resolve("auto")
  }

  /// True when QEMU, a kernel and busybox are installed (the Debian packages of the README).
  static var canBoot: Bool {
    VMShell.which("qemu-system-x86_64") != nil && (try? kernel()) != nil
      && FileManager.default.fileExists(atPath: "/bin/busybox")
  }

  /// QEMU processes whose command line mentions `needle`.
  static func qemuProcesses(mentioning needle: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry -> Int32? in
      guard let pid = Int32(entry),
        let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
      else { return nil }
      let text = String(decoding: data, as: UTF8.self)
      return text.contains("qemu-system") && text.contains(needle) ? pid : nil
    }
  }
}
