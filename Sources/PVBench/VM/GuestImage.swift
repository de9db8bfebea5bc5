import Foundation

/// A built guest initramfs in the cache, with what went into it.
struct GuestImage: Sendable, Codable, Equatable {
  /// Path of the initramfs (`initramfs.cpio` or `initramfs.cpio.gz`).
  var path: String
  /// The kernel it was built for (the modules match this release).
  var kernelPath: String
  /// The kernel release the modules come from.
  var kernelRelease: String
  /// Size of the initramfs file in bytes.
  var sizeBytes: Int
  /// The cache key: a hash of every input (paths, sizes, modification times, init script).
  var hash: String
  /// Kernel modules insmod'ed by init, in order.
  var modules: [String]
  /// Channel modules neither found in `/lib/modules/<release>` nor built in; init then falls
  /// back to /dev/ttyS1 if the virtio port does not appear.
  var skippedModules: [String]
  /// Paths inside the archive (without the leading slash).
  var files: [String]
  /// True when the image came from the cache without rebuilding.
  var cached: Bool
  /// Wall time spent in `build()`, including the cache lookup.
  var buildSeconds: Double
}
