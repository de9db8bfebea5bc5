import AgentProtocol
import Controller
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

  /// What a test image runs as its agent.
  enum ImageAgent {
    /// The shell script of `fakeAgent(in:)`: it says hello, then sleeps.
    case fake
    /// The same script, which then keeps its vCPU busy.
    case spinning
    /// The built `pvbench` binary: the real agent.
    case pvbench
  }

  /// The kernel the tests boot and an initramfs built for it.
  struct BootImage {
    var kernel: GuestKernel
    var image: GuestImage

    /// Launches a TCG guest of this kernel and image, its folder under `folder`.
    /// - Throws: `VMError` when QEMU cannot start.
    func launch(
      _ name: String, vcpus: Int, threadsPerCore: Int = 1, memoryMiB: Int,
      extraKernelArguments: String = "", in folder: String
    ) throws -> QEMUGuest {
      try QEMUGuest.launch(
        QEMUGuestConfiguration(
          name: name, vcpus: vcpus, threadsPerCore: threadsPerCore, memoryMiB: memoryMiB,
          kernelPath: kernel.path, initrdPath: image.path, accelerator: .tcg,
          extraKernelArguments: extraKernelArguments),
        temporaryRoot: folder)
    }
  }

  /// Resolves the kernel and builds (or finds in `folder/cache`) an image running `agent`.
  /// - Throws: `VMError` when there is no kernel or the image cannot be built.
  static func bootImage(_ agent: ImageAgent, in folder: String) throws -> BootImage {
    let kernel = try kernel()
    let binary =
      switch agent {
      case .fake: try fakeAgent(in: folder)
      case .spinning: try fakeAgent(in: folder, spin: true)
      case .pvbench: pvbenchBinary
      }
    let image = try GuestImageBuilder(
      kernel: kernel, binaryPath: binary, cacheDirectory: folder + "/cache"
    ).build()
    return BootImage(kernel: kernel, image: image)
  }

  /// An agent client on a booted guest's channel `fd`; its errors quote the last `tail`
  /// lines of the guest's console.
  static func client(_ host: String, of guest: QEMUGuest, fd: Int32, tail: Int = 15)
    -> AgentClient
  {
    AgentClient(
      host: host, channel: LineChannel(readFD: fd, writeFD: fd),
      diagnostics: { guest.consoleTail(tail).joined(separator: "\n") })
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

  /// True when guests can boot and be confined to a host pool: root and a cgroup cpu
  /// controller besides what `canBoot` needs.
  static var canPool: Bool {
    canBoot && CgroupCPUController.detect() != nil && getuid() == 0
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

extension Trait where Self == ConditionTrait {
  /// Runs a suite only where guests can boot into a host pool (`VMTestSupport.canPool`).
  static var needsHostPool: Self {
    .enabled(
      if: VMTestSupport.canPool, "needs QEMU, a kernel, busybox, root and a cgroup cpu controller")
  }
}
