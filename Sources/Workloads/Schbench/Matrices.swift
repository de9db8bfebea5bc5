import CPVBenchShims

#if canImport(Glibc)
  import Glibc
#endif

/// Three square `side`×`side` matrices of UInt64 in one block, multiplied naively: the
/// request's CPU work, built to cost what schbench's request costs.
///
/// Two choices keep the cost equal to schbench's C, and each was measured
/// (docs/benchmarks.md):
/// - One block, never initialised, with the memory schbench's `malloc` gets: from 128 KiB
///   (glibc's mmap threshold in a fresh schbench process) a mapping of its own, so the two
///   input matrices read as untouched zero pages and only the product is written; below,
///   the heap. pvbench's own `malloc` would not do: by the time the workers start, glibc has
///   raised its threshold (Swift's runtime freed large blocks), and the block came from the
///   heap — touched, and possibly in a huge page, which made the request ~25 % cheaper.
/// - The multiply is C (`pvb_matrix_multiply`, CPVBenchShims/matrix.c): the same eight
///   instructions per step as gcc -O2 builds schbench's, never unrolled, its inner loop on a
///   64-byte boundary. In Swift the loop's code and place moved with every build.
struct Matrices {
  let side: Int
  private let block: UnsafeMutablePointer<UInt64>
  /// Bytes mapped with mmap, or 0 when the block came from malloc.
  private let mappedBytes: Int
  /// glibc's default `M_MMAP_THRESHOLD`, which schbench's allocation meets unchanged.
  static let mappingThreshold = 128 * 1024

  /// Allocates (and does not initialise) three matrices of `side`×`side`.
  init(side: Int) {
    self.side = side
    let bytes = max(1, 3 * side * side) * MemoryLayout<UInt64>.stride
    var raw: UnsafeMutableRawPointer?
    if bytes >= Matrices.mappingThreshold {
      let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
      raw = mapped == MAP_FAILED ? nil : mapped
      mappedBytes = bytes
    } else {
      raw = malloc(bytes)
      mappedBytes = 0
    }
    guard let raw else {
      fatalError("could not allocate \(bytes) bytes for the schbench matrices")
    }
    block = raw.bindMemory(to: UInt64.self, capacity: bytes / MemoryLayout<UInt64>.stride)
  }

  /// The side for a footprint of `kilobytes` KiB split in three UInt64 matrices:
  /// ⌊√(KiB × 1024 / 3 / 8)⌋, schbench's rule.
  static func side(forKilobytes kilobytes: Int) -> Int {
    let elements = max(0, kilobytes) * 1024 / 3 / MemoryLayout<UInt64>.size
    var side = Int(Double(elements).squareRoot())
    while side * side > elements { side -= 1 }
    while (side + 1) * (side + 1) <= elements { side += 1 }
    return side
  }

  func deallocate() {
    if mappedBytes > 0 {
      munmap(block, mappedBytes)
    } else {
      free(block)
    }
  }

  /// `third = first × second`, accumulating in the product's memory.
  func multiply() {
    guard side > 0 else { return }
    pvb_matrix_multiply(block, UInt64(side))
  }
}
