import Foundation

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
  /// SMT threads per core of the guest's topology (`-smp …,threads=T`).
  package var threadsPerCore: Int = 1

  /// Memberwise.
  package init(
    name: String,
    vcpus: Int,
    memoryMiB: Int,
    entitledCPUs: Double,
    capped: Bool = false,
    threadsPerCore: Int = 1
  ) {
    self.threadsPerCore = threadsPerCore
    self.name = name
    self.vcpus = vcpus
    self.memoryMiB = memoryMiB
    self.entitledCPUs = entitledCPUs
    self.capped = capped
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
  ///   - kernel: `auto` or a bzImage path.
  ///   - poolCPUs: host CPUs the guests share (`HostPool.onlineCPUs()` for all).
  ///   - accelerator: nil to probe (cached per host boot), or a fixed choice.
  ///   - binaryPath: pvbench binary for the image (nil: the running one).
  ///   - timeout: boot-to-hello limit per guest.
  /// - Throws: `VMError` naming the guest that failed, with its console's last lines.
  package static func boot(
    _ requests: [GuestRequest], kernel: String = "auto", poolCPUs: [Int32],
    accelerator: QEMUAccelerator? = nil, binaryPath: String? = nil,
    cacheDirectory: String? = nil, timeout: Duration = .seconds(60)
  ) throws -> LocalGuests {
    let guestKernel = try GuestKernel.resolve(kernel)
    let builder = GuestImageBuilder(
      kernel: guestKernel, binaryPath: binaryPath, cacheDirectory: cacheDirectory)
    let image = try builder.build()
    let verdict =
      accelerator.map { AcceleratorProbe.Verdict(accelerator: $0, reason: "chosen", cached: true) }
      ?? AcceleratorProbe(kernel: guestKernel, cacheDirectory: builder.cacheDirectory).verdict()
    let pool = HostPool(cpus: poolCPUs)
    var guests: [QEMUGuest] = []
    do {
      for request in requests {
        let guest = try QEMUGuest.launch(
          QEMUGuestConfiguration(
            name: request.name, vcpus: request.vcpus, threadsPerCore: request.threadsPerCore,
            memoryMiB: request.memoryMiB,
            kernelPath: guestKernel.path, initrdPath: image.path,
            accelerator: verdict.accelerator))
        guests.append(guest)
        try pool.add(
          guest: request.name, pid: guest.pid, entitledCPUs: request.entitledCPUs,
          capped: request.capped)
      }
      var channels: [(fileDescriptor: Int32, hello: String)] = []
      for guest in guests {
        channels.append(try guest.waitForAgent(timeout: timeout))
        // vCPU threads made after `add` inherit the affinity; pin again to be sure.
        try pool.confine(pid: guest.pid)
      }
      return LocalGuests(
        guests: guests, channels: channels, pool: pool, accelerator: verdict, image: image)
    } catch {
      for guest in guests { guest.shutdown(grace: .zero) }
      pool.close()
      throw error
    }
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
