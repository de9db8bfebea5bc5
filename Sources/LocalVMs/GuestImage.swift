import Foundation

/// A built guest initramfs in the cache, with what went into it.
package struct GuestImage: Sendable, Codable, Equatable {
  /// Path of the initramfs (`initramfs.cpio` or `initramfs.cpio.gz`).
  package var path: String
  /// The kernel it was built for (the modules match this release).
  package var kernelPath: String
  /// The kernel release the modules come from.
  package var kernelRelease: String
  /// Size of the initramfs file in bytes.
  package var sizeBytes: Int
  /// The cache key: a hash of every input (paths, sizes, modification times, init script).
  package var hash: String
  /// Kernel modules insmod'ed by init, in order.
  package var modules: [String]
  /// Channel modules neither found in `/lib/modules/<release>` nor built in; init then falls
  /// back to /dev/ttyS1 if the virtio port does not appear.
  package var skippedModules: [String]
  /// Paths inside the archive (without the leading slash).
  package var files: [String]
  /// True when the image came from the cache without rebuilding.
  package var cached: Bool
  /// Wall time spent in `build()`, including the cache lookup.
  package var buildSeconds: Double
}
