import Foundation
import Vocabulary

/// How QEMU runs guest code.
package enum QEMUAccelerator: String, Sendable, Codable, CaseIterable {
  /// Hardware virtualization through /dev/kvm.
  case kvm
  /// QEMU's portable binary translator (slow, but runs anywhere).
  case tcg
}

/// Which device carries the agent's line channel inside the guest.
package enum GuestChannelKind: String, Sendable, Codable, CaseIterable {
  /// A virtio-serial port named `org.pvbench.agent` (needs the virtio modules).
  case virtio
  /// The guest's second serial port, /dev/ttyS1 (no modules needed; slower).
  case serial
  /// A pseries guest's second `spapr-vty` console, /dev/hvc1 (the hvc driver is built in).
  case hvc
}

/// Everything needed to start one QEMU guest.
package struct QEMUGuestConfiguration: Sendable, Equatable {
  /// A short name used in cgroup and folder names (letters, digits, `-`, `_`).
  package var name: String
  /// Number of vCPUs (`-smp N,maxcpus=N`).
  package var vcpus: Int
  /// SMT threads per core (`-smp …,threads=T`); 1 gives every vCPU a core of its own.
  /// `vcpus` must be a multiple of it.
  package var threadsPerCore: Int = 1
  /// Guest memory in MiB.
  package var memoryMiB: Int
  /// The kernel image.
  package var kernelPath: String
  /// The initramfs.
  package var initrdPath: String
  /// KVM or TCG.
  package var accelerator: QEMUAccelerator
  /// Where the agent's channel is.
  package var channel: GuestChannelKind = .virtio
  /// Extra kernel command line words appended after pvbench's own.
  package var extraKernelArguments: String = ""
  /// The QEMU executable (a name looked up in PATH, or a path).
  package var qemu: String = "qemu-system-x86_64"
  /// The machine emulated: q35 for x86_64, pseries (always TCG) for ppc64le.
  package var architecture: GuestArchitecture = .x86_64

  /// The kernel command line: serial console, quiet, and no reboot on panic.
  package var kernelCommandLine: String {
    var line = "console=\(architecture == .ppc64le ? "hvc0" : "ttyS0") quiet panic=-1 rdinit=/init"
    if channel == .serial { line += " pvbench.channel=serial" }
    if channel == .hvc { line += " pvbench.channel=hvc1" }
    if !extraKernelArguments.isEmpty { line += " " + extraKernelArguments }
    return line
  }

  /// The `-smp` value: every vCPU present, `threadsPerCore` to a core.
  var smp: String {
    threadsPerCore > 1
      ? "\(vcpus),maxcpus=\(vcpus),threads=\(threadsPerCore)" : "\(vcpus),maxcpus=\(vcpus)"
  }

  /// QEMU's arguments (without the executable) for a guest whose files live in `directory`.
  package func arguments(directory: String) -> [String] {
    if architecture == .ppc64le { return pseriesArguments(directory: directory) }
    var args = [
      "-name", "pvbench-\(name),debug-threads=on", "-nodefaults", "-nographic", "-no-reboot",
      "-machine", "q35", "-smp", smp, "-m", "\(memoryMiB)M",
      "-kernel", kernelPath, "-initrd", initrdPath, "-append", kernelCommandLine,
      "-chardev", "file,id=console,path=\(directory)/console.log",
      "-serial", "chardev:console",
      "-chardev", "socket,id=agent,path=\(directory)/agent.sock,server=on,wait=off",
    ]
    switch accelerator {
    case .kvm: args += ["-accel", "kvm", "-cpu", "host"]
    // qemu64 rather than max: fewer emulated features for the guest kernel to set up, and in
    // bench/vm runs on a loaded 2-CPU host it reached init sooner (docs/benchmarks.md, "VM").
    // With SMT, the vendor is Intel: qemu64 says AMD, whose thread siblings Linux reads only
    // from the TOPOEXT leaf that TCG lacks, so the guest saw one thread per core ("cpu1 sib 1");
    // as GenuineIntel it reads leaf 0xB and pairs the threads ("cpu1 sib 0-1").
    case .tcg:
      args += [
        "-accel", "tcg", "-cpu", threadsPerCore > 1 ? "qemu64,vendor=GenuineIntel" : "qemu64",
      ]
    }
    switch channel {
    case .virtio:
      args += [
        "-device", "virtio-serial-pci,id=vser0",
        "-device", "virtserialport,bus=vser0.0,chardev=agent,name=\(GuestInit.portName)",
      ]
    case .serial, .hvc:
      args += ["-serial", "chardev:agent"]
    }
    return args
  }

  /// QEMU's arguments for a pseries guest: TCG, the console on the first `spapr-vty`
  /// (/dev/hvc0) and the agent's channel on a second one (/dev/hvc1), whatever `channel`
  /// says. The spectre-mitigation capabilities QEMU asks for by default are ones TCG
  /// cannot provide; they are turned off so QEMU does not warn about each at start.
  func pseriesArguments(directory: String) -> [String] {
    [
      "-name", "pvbench-\(name),debug-threads=on", "-nodefaults", "-nographic", "-no-reboot",
      "-machine", "pseries,cap-cfpc=broken,cap-sbbc=broken,cap-ibs=broken,cap-ccf-assist=off",
      "-smp", smp, "-m", "\(memoryMiB)M",
      "-kernel", kernelPath, "-initrd", initrdPath, "-append", kernelCommandLine,
      "-accel", "tcg",
      "-chardev", "file,id=console,path=\(directory)/console.log",
      "-device", "spapr-vty,chardev=console",
      "-chardev", "socket,id=agent,path=\(directory)/agent.sock,server=on,wait=off",
      "-device", "spapr-vty,chardev=agent",
    ]
  }

  /// Memberwise.
  package init(
    name: String,
    vcpus: Int,
    threadsPerCore: Int = 1,
    memoryMiB: Int,
    kernelPath: String,
    initrdPath: String,
    accelerator: QEMUAccelerator,
    channel: GuestChannelKind = .virtio,
    extraKernelArguments: String = "",
    qemu: String = "qemu-system-x86_64",
    architecture: GuestArchitecture = .x86_64
  ) {
    self.architecture = architecture
    self.name = name
    self.vcpus = vcpus
    self.threadsPerCore = threadsPerCore
    self.memoryMiB = memoryMiB
    self.kernelPath = kernelPath
    self.initrdPath = initrdPath
    self.accelerator = accelerator
    self.channel = channel
    self.extraKernelArguments = extraKernelArguments
    self.qemu = qemu
  }
}
