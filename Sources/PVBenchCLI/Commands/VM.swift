import ArgumentParser
import Foundation
import LinuxHost
import LocalVMs
import Vocabulary

extension PVBench {
  struct VM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "vm",
      abstract: "Build the guest image and boot or inspect the local QEMU guests of an experiment.",
      discussion: """
        Builds an initramfs with busybox and this pvbench binary and boots it under KVM \
        or TCG. See docs/vm.md.
        """,
      subcommands: [Build.self, Boot.self, List.self, Clean.self]
    )
  }
}

extension PVBench.VM {
  /// Options shared by `vm build` and `vm boot`.
  struct ImageOptions: ParsableArguments {
    @Option(help: "The guest kernel: 'auto' (newest readable /boot/vmlinuz-*) or a bzImage path.")
    var kernel: String = "auto"

    @Option(help: "The pvbench binary to put in the image (default: this one).")
    var binary: String?

    @Flag(help: "Gzip the initramfs (smaller, slower to build and boot under TCG).")
    var compress = false

    /// Resolves the kernel and builds (or finds) the image.
    func buildImage() throws -> GuestImage {
      let kernel = try GuestKernel.resolve(kernel)
      return try GuestImageBuilder(kernel: kernel, binaryPath: binary, compress: compress).build()
    }
  }

  struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build the guest initramfs (or find it in the cache) and print its path.")

    @OptionGroup var image: ImageOptions

    func run() throws {
      let built = try runVM { try image.buildImage() }
      print(built.path)
      print(
        "size \(built.sizeBytes >> 20) MiB, kernel \(built.kernelRelease), "
          + String(format: "%.2f s", built.buildSeconds) + (built.cached ? ", cached" : ", built"))
      if !built.skippedModules.isEmpty {
        print(
          "note: modules not found for \(built.kernelRelease): "
            + built.skippedModules.joined(separator: ", ")
            + "; the guest falls back to /dev/ttyS1 if the virtio port does not appear.")
      }
    }
  }

  struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Boot one guest until its agent says hello, print the times, and shut it down.")

    @OptionGroup var image: ImageOptions

    @Option(help: "Number of vCPUs.")
    var vcpus = 2

    @Option(help: "Guest memory, e.g. 512M or 1G.")
    var memory = "512M"

    @Option(help: "Boot-to-agent-ready time limit, e.g. 60s.")
    var timeout = "60s"

    @Option(help: "Accelerator: auto (probe KVM, else TCG), kvm or tcg.")
    var accel = "auto"

    @Option(help: "Agent channel: virtio (virtio-serial port) or serial (/dev/ttyS1).")
    var channel: GuestChannelKind = .virtio

    @Option(help: "Copy the guest console log to this file.")
    var console: String?

    /// `512M`, `1G` (the experiment files' sizes) or a bare number of MiB; nil otherwise.
    static func mebibytes(_ text: String) -> Int? {
      if let value = Int(text) { return value > 0 ? value : nil }
      return ByteSize(parsing: text).map { Int($0.megabytes) }.flatMap { $0 > 0 ? $0 : nil }
    }

    /// A positive duration in the experiment files' grammar (`500ms`, `60s`, `2m`).
    static func timeout(_ text: String) -> Duration? {
      DurationValue(parsing: text).flatMap { $0.nanoseconds > 0 ? $0.duration : nil }
    }

    func validate() throws {
      guard vcpus >= 1 && vcpus <= 64 else {
        throw ValidationError("'--vcpus' must be between 1 and 64, got '\(vcpus)'.")
      }
      guard Self.mebibytes(memory) != nil else {
        throw ValidationError("'--memory' must be a size such as 512M or 1G, got '\(memory)'.")
      }
      guard Self.timeout(timeout) != nil else {
        throw ValidationError("'--timeout' must be a duration such as 60s or 2m, got '\(timeout)'.")
      }
      guard ["auto", "kvm", "tcg"].contains(accel) else {
        throw ValidationError("'--accel' must be auto, kvm or tcg, got '\(accel)'.")
      }
    }

    func run() throws {
      VMInterruptHandler.install()
      try runVM {
        let built = try image.buildImage()
        let kernel = try GuestKernel.resolve(image.kernel)
        let accelerator: QEMUAccelerator
        switch accel {
        case "kvm": accelerator = .kvm
        case "tcg": accelerator = .tcg
        default:
          let verdict = AcceleratorProbe(kernel: kernel).verdict()
          if verdict.accelerator == .tcg { printToStandardError("notice: \(verdict.reason)") }
          accelerator = verdict.accelerator
        }
        let configuration = QEMUGuestConfiguration(
          name: "boot", vcpus: vcpus, memoryMiB: Self.mebibytes(memory)!,
          kernelPath: kernel.path, initrdPath: built.path, accelerator: accelerator,
          channel: channel)
        let guest = try QEMUGuest.launch(configuration)
        defer { guest.shutdown(grace: .seconds(5), keepConsoleAt: console) }
        let hello = try guest.waitForAgent(timeout: Self.timeout(timeout)!)
        let ready = GuestImageBuilder.seconds(ContinuousClock.now - guest.launchedAt)
        let threads = guest.vcpuThreads()
        print(
          "guest ready in " + String(format: "%.2f s", ready)
            + " (\(accelerator.rawValue), \(vcpus) vCPUs, \(memory), kernel \(kernel.release), "
            + "\(threads.count) vCPU threads)")
        print("hello: \(hello.hello)")
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "ls", abstract: "List cached guest images and leftover guest folders.")

    func run() throws {
      let cache = GuestImageBuilder.defaultCacheDirectory()
      for entry in VMCache.images(cacheDirectory: cache) {
        print("\(entry.path)\t\(entry.sizeBytes >> 20) MiB\t\(entry.kernelRelease)")
      }
      for folder in VMCache.leftoverFolders() {
        print("leftover guest folder: \(folder)")
      }
    }
  }

  struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Remove cached images, and the folders, QEMU processes and cgroups of dead runs.")

    func run() throws {
      let removed = VMCache.clean(cacheDirectory: GuestImageBuilder.defaultCacheDirectory())
      let cgroups = HostPool.removeLeftovers()
      print(
        "removed \(removed.images) cached image(s), \(removed.folders) leftover folder(s) and "
          + "\(cgroups.count) leftover cgroup(s)")
    }
  }
}

/// Runs `body`, turning a `VMError` into a one-line message and exit status 1.
///
/// - Throws: `CommandFailure`: runtime failure for a `VMError`, interrupted (with no
///   message: the signal handler printed it) when SIGINT or SIGTERM stopped the guest.
@discardableResult
func runVM<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let error as VMError {
    // A guest that failed because SIGINT stopped it is no error of its own: let the
    // handler's message and status 130 stand.
    if VMInterruptHandler.wasInterrupted { throw CommandFailure(.interrupted) }
    throw CommandFailure(.runtimeFailure, "pvbench vm: \(error.description)")
  }
}

extension GuestChannelKind: ExpressibleByArgument {}
