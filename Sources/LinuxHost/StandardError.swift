#if canImport(Glibc)
  import Glibc
#endif

/// Writes one line to standard error, unbuffered: progress, notes, warnings and the
/// schbench layout (which upstream prints there). Failures are typed errors, printed by
/// the command line's one error mapping (`CommandFailure`).
package func printToStandardError(_ line: String) {
  var text = line
  if !text.hasSuffix("\n") { text += "\n" }
  let bytes = Array(text.utf8)
  var offset = 0
  while offset < bytes.count {
    let written = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    if written > 0 {
      offset += written
    } else if written < 0 && errno != EINTR {
      return
    }
  }
}
