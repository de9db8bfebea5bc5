import Foundation
import Vocabulary

/// One guest to boot for an experiment: its shape and its share of the pool.
package struct GuestRequest: Sendable, Equatable {
  /// The host name in the experiment (`lpar1`); also names the cgroup and folder.
  package var name: String
  /// vCPUs.
  package var vcpus: Int
  /// Memory in MiB.
  package var memoryMiB: Int
  /// Entitled CPUs: the guest's weight in the pool.
  package var entitledCPUs: Double
  /// Also limit the guest's bandwidth to its entitlement.
  package var capped: Bool = false
  /// PowerVM's uncapped weight (0-255): its share of the pool's unclaimed capacity.
  package var uncappedWeight: Int = 128
  /// SMT threads per core of the guest's topology (`-smp …,threads=T`).
  package var threadsPerCore: Int = 1
  /// Words appended to the guest kernel's command line (`qemu.append`).
  package var kernelArguments: String = ""
  /// `auto` or a bzImage path for this guest; nil for the `kernel` given to `boot`.
  package var kernel: String?
  /// x86_64 (q35) or ppc64le (pseries under TCG, with the portable agent).
  package var architecture: GuestArchitecture = .x86_64

  /// The guest's entitled vCPUs: its lowest-numbered whole cores, as many as it is
  /// entitled to (rounded up), with every SMT thread of each — the CPUs folding keeps.
  package var entitledVCPUs: Int {
    min(vcpus, Int(entitledCPUs.rounded(.up)) * threadsPerCore)
  }

  /// Memberwise.
  package init(
    name: String,
    vcpus: Int,
    memoryMiB: Int,
    entitledCPUs: Double,
    capped: Bool = false,
    uncappedWeight: Int = 128,
    threadsPerCore: Int = 1,
    kernelArguments: String = "",
    kernel: String? = nil,
    architecture: GuestArchitecture = .x86_64
  ) {
    self.architecture = architecture
    self.kernel = kernel
    self.kernelArguments = kernelArguments
    self.threadsPerCore = threadsPerCore
    self.name = name
    self.vcpus = vcpus
    self.memoryMiB = memoryMiB
    self.entitledCPUs = entitledCPUs
    self.capped = capped
    self.uncappedWeight = uncappedWeight
  }
}

/// A set of booted guests sharing a host pool; `shutdown()` ends them all.
package final class LocalGuests: Sendable {
  /// The guests, in request order.
  package let guests: [QEMUGuest]
  /// Their agents' connected channels and hello lines, in request order.
  package let channels: [(fileDescriptor: Int32, hello: String)]
  /// The pool holding their QEMU processes.
  package let pool: HostPool
  /// The accelerator used and why.
  package let accelerator: AcceleratorProbe.Verdict
  /// The image all guests booted.
  package let image: GuestImage

  private init(
    guests: [QEMUGuest], channels: [(fileDescriptor: Int32, hello: String)], pool: HostPool,
    accelerator: AcceleratorProbe.Verdict, image: GuestImage
  ) {
    self.guests = guests
    self.channels = channels
    self.pool = pool
    self.accelerator = accelerator
    self.image = image
  }

  /// Builds the image, picks the accelerator, boots every guest at once, waits for each
  /// agent's hello and puts the QEMU processes in one pool on `poolCPUs`.
  ///
  /// On any failure every guest already started is shut down and the pool removed before the
  /// error is thrown.
  /// - Parameters:
  ///   - requests: the guests.
  ///   - kernel: `auto` or a bzImage path, for requests that name none; each kernel gets
  ///     its own image (`image` is the first guest's).
  ///   - poolCPUs: host CPUs the guests share (`HostPool.onlineCPUs()` for all).
  ///   - poolSettings: the pool model and window, applied once every agent said hello (the
  ///     vCPU threads exist by then): `dispatch` moves each guest's vCPU threads into its
  ///     bandwidth-limited child cgroup `vcpus`, `entitled` demotes the non-entitled ones
  ///     into the child `spare`, `fair` leaves one weight per guest.
  ///   - accelerator: nil to probe (cached per host boot), or a fixed choice.
  ///   - binaryPath: pvbench binary for the image (nil: the running one).
  ///   - timeout: boot-to-hello limit per guest.
  /// - Throws: `VMError` naming the guest that failed, with its console's last lines.
  package static func boot(
    _ requests: [GuestRequest], kernel: String = "auto", poolCPUs: [Int32],
    poolSettings: HostPool.Settings = .init(model: .standard),
    accelerator: QEMUAccelerator? = nil,
    binaryPath: String? = nil,
    cacheDirectory: String? = nil, timeout: Duration = .seconds(60)
  ) throws -> LocalGuests {
    // One image per kernel (it carries that kernel's modules) and architecture.
    var booted: [String: (kernel: GuestKernel, image: GuestImage)] = [:]
    var cache = cacheDirectory ?? GuestImageBuilder.defaultCacheDirectory()
    let choices =
      requests.isEmpty
      ? [ImageChoice(kernel: kernel)] : requests.map { ImageChoice($0, default: kernel) }
    for choice in choices where booted[choice.key] == nil {
      let (guestKernel, builder) = try choice.builder(
        binaryPath: binaryPath, cacheDirectory: cacheDirectory)
      booted[choice.key] = (guestKernel, try builder.build())
      cache = builder.cacheDirectory
    }
    // The accelerator probe boots an x86 kernel; pseries guests run under TCG regardless.
    let x86Kernel = choices.first { $0.architecture == .x86_64 }.map { booted[$0.key]!.kernel }
    let image = booted[choices[0].key]!.image
    let verdict =
      accelerator.map { AcceleratorProbe.Verdict(accelerator: $0, reason: "chosen", cached: true) }
      ?? x86Kernel.map { AcceleratorProbe(kernel: $0, cacheDirectory: cache).verdict() }
      ?? AcceleratorProbe.Verdict(
        accelerator: .tcg, reason: "pseries guests run under TCG on this machine", cached: true)
    let pool = HostPool(cpus: poolCPUs)
    var guests: [QEMUGuest] = []
    do {
      for request in requests {
        let (requestKernel, requestImage) = booted[ImageChoice(request, default: kernel).key]!
        let pseries = request.architecture == .ppc64le
        let guest = try QEMUGuest.launch(
          QEMUGuestConfiguration(
            name: request.name, vcpus: request.vcpus, threadsPerCore: request.threadsPerCore,
            memoryMiB: request.memoryMiB,
            kernelPath: requestKernel.path, initrdPath: requestImage.path,
            accelerator: pseries ? .tcg : verdict.accelerator, channel: pseries ? .hvc : .virtio,
            extraKernelArguments: request.kernelArguments,
            qemu: pseries ? "qemu-system-ppc64" : "qemu-system-x86_64",
            architecture: request.architecture))
        guests.append(guest)
        try pool.add(
          guest: request.name, pid: guest.pid, entitledCPUs: request.entitledCPUs,
          capped: request.capped, uncappedWeight: request.uncappedWeight)
      }
      var channels: [(fileDescriptor: Int32, hello: String)] = []
      for (guest, request) in zip(guests, requests) {
        // A pseries guest boots under TCG, emulating another instruction set: minutes on a
        // loaded machine (docs/vm.md, "pseries guests").
        let limit = request.architecture == .ppc64le ? max(timeout * 5, .seconds(300)) : timeout
        channels.append(try guest.waitForAgent(timeout: limit))
        // vCPU threads made after `add` inherit the affinity; pin again to be sure.
        try pool.confine(pid: guest.pid)
        try attachVCPUs(of: guest, request: request, pool: pool, model: poolSettings.model)
      }
      try pool.configure(poolSettings)
      return LocalGuests(
        guests: guests, channels: channels, pool: pool, accelerator: verdict, image: image)
    } catch {
      for guest in guests { guest.shutdown(grace: .zero) }
      pool.close()
      throw error
    }
  }

  /// Hands the guest's vCPU threads to the pool. QEMU numbers its `CPU n/TCG` threads by
  /// CPU index, the order of the guest's ACPI processor entries, which is the order Linux
  /// numbers its CPUs in, so the entitled ones are the lowest-numbered.
  /// - Throws: `VMError` under `entitled` when QEMU runs fewer vCPU threads than the guest
  ///   has vCPUs (one TCG thread for all, when multi-threaded TCG is off): the model cannot
  ///   tell them apart. `dispatch` needs no such split: the quota covers whatever threads run.
  static func attachVCPUs(
    of guest: QEMUGuest, request: GuestRequest, pool: HostPool, model: PoolModel
  ) throws {
    let threads = guest.vcpuThreads()
    if model == .entitled, request.entitledVCPUs < request.vcpus,
      threads.map(\.index) != Array(0..<request.vcpus)
    {
      throw VMError(
        "Guest \(request.name): QEMU \(guest.pid) runs \(threads.count) vCPU threads for "
          + "\(request.vcpus) vCPUs, so 'pool.model: entitled' cannot give the non-entitled "
          + "ones spare cycles only; use 'pool.model: dispatch' or 'fair'.")
    }
    try pool.attach(
      guest: request.name, threads: threads, entitledVCPUs: request.entitledVCPUs)
  }

  /// Shuts every guest down (copying consoles into `consoleFolder` as `<name>.console.log`
  /// when given) and removes the pool's cgroups.
  package func shutdown(grace: Duration = .seconds(5), consoleFolder: String? = nil) {
    for guest in guests {
      let keep = consoleFolder.map { "\($0)/\(guest.configuration.name).console.log" }
      guest.shutdown(grace: grace, keepConsoleAt: keep)
    }
    pool.close()
  }
}
