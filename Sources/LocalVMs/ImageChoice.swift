import Foundation
import Vocabulary

/// The kernel and architecture a guest boots: guests that share both share one image.
struct ImageChoice: Sendable {
  /// `auto` or a kernel image path.
  var kernel: String
  var architecture: GuestArchitecture = .x86_64

  init(kernel: String, architecture: GuestArchitecture = .x86_64) {
    self.kernel = kernel
    self.architecture = architecture
  }

  /// The choice of `request`, with `kernel` for a request that names none.
  init(_ request: GuestRequest, default kernel: String) {
    self.init(kernel: request.kernel ?? kernel, architecture: request.architecture)
  }

  var key: String { "\(architecture.rawValue):\(kernel)" }

  /// Resolves the kernel and makes the image builder.
  ///
  /// x86_64: a bzImage from /boot (or the path) and the Swift pvbench `binaryPath`. ppc64le:
  /// Debian's ppc64el kernel and busybox-static from the cache (`PseriesGuestFiles`), and the
  /// portable agent built for ppc64le, found from `binaryPath`'s place.
  /// - Throws: `VMError` when the kernel, busybox or the portable agent is missing.
  func builder(binaryPath: String?, cacheDirectory: String?) throws -> (
    GuestKernel, GuestImageBuilder
  ) {
    switch architecture {
    case .x86_64:
      let guestKernel = try GuestKernel.resolve(kernel)
      return (
        guestKernel,
        GuestImageBuilder(
          kernel: guestKernel, binaryPath: binaryPath, cacheDirectory: cacheDirectory)
      )
    case .ppc64le:
      let executable = binaryPath ?? GuestImageBuilder.runningExecutable()
      let files = PseriesGuestFiles(cacheDirectory: cacheDirectory)
      let guestKernel = try files.kernel(kernel, executable: executable)
      let agent = try PortableAgent.locate(architecture: "ppc64le", nextTo: executable)
      var builder = GuestImageBuilder(
        kernel: guestKernel, binaryPath: agent, busyboxPath: files.busybox,
        cacheDirectory: cacheDirectory)
      builder.architecture = .ppc64le
      return (guestKernel, builder)
    }
  }
}
