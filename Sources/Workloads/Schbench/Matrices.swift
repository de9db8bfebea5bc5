#if canImport(Glibc)
  import Glibc
#endif
/// Three square matrices of UInt64, multiplied naively (`c = a × b`).
struct Matrices {
  let side: Int
  let a: UnsafeMutablePointer<UInt64>
  let b: UnsafeMutablePointer<UInt64>
  let c: UnsafeMutablePointer<UInt64>

  init(side: Int) {
    self.side = side
    let count = max(1, side * side)
    a = .allocate(capacity: count)
    b = .allocate(capacity: count)
    c = .allocate(capacity: count)
    for index in 0..<count {
      a[index] = UInt64(index) &* 2_654_435_761
      b[index] = UInt64(index) ^ 0x9E37_79B9
      c[index] = 0
    }
  }

  func deallocate() {
    a.deallocate()
    b.deallocate()
    c.deallocate()
  }

  func multiply() {
    let n = side
    for row in 0..<n {
      let aRow = a + row &* n
      let cRow = c + row &* n
      for column in 0..<n {
        var sum: UInt64 = 0
        var bColumn = b + column
        for k in 0..<n {
          sum &+= aRow[k] &* bColumn.pointee
          bColumn += n
        }
        cRow[column] = sum
      }
    }
  }
}
