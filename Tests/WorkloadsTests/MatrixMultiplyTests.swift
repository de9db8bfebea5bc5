import CPVBenchShims
import Testing

/// The request's multiply computes a product, writes only the third matrix, and keeps the
/// written-back running sum exact in modular UInt64 arithmetic.
@Suite struct MatrixMultiplyTests {
  @Test func threeByThreeProduct() {
    let side = 3
    // first = 1…9 row by row, second = 9…1, third filled with a sentinel.
    let first: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let second: [UInt64] = [9, 8, 7, 6, 5, 4, 3, 2, 1]
    let sentinel: [UInt64] = Array(repeating: 0xdead, count: 9)
    var block = first + second + sentinel
    block.withUnsafeMutableBufferPointer { pvb_matrix_multiply($0.baseAddress!, UInt64(side)) }
    // [1 2 3; 4 5 6; 7 8 9] × [9 8 7; 6 5 4; 3 2 1]
    let product: [UInt64] = [30, 24, 18, 84, 69, 54, 138, 114, 90]
    #expect(Array(block[18...]) == product)
    #expect(Array(block[..<18]) == first + second)
  }

  @Test func wrapsLikeCUnsignedArithmetic() {
    // 1×1: UInt64.max × 2 wraps to UInt64.max − 1, as schbench's unsigned long does.
    var block: [UInt64] = [UInt64.max, 2, 7]
    block.withUnsafeMutableBufferPointer { pvb_matrix_multiply($0.baseAddress!, 1) }
    #expect(block[2] == UInt64.max &- 1)
  }

  @Test func emptySideTouchesNothing() {
    var block: [UInt64] = [5]
    block.withUnsafeMutableBufferPointer { pvb_matrix_multiply($0.baseAddress!, 0) }
    #expect(block == [5])
  }
}
