import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A newline-delimited text channel over a pair of file descriptors.
///
/// One thread reads lines; any thread may send (sends are serialized by a lock, so events
/// from sampler threads never interleave with replies). Works over pipes, a char device
/// such as a virtio-serial port, or a connected unix socket (pass the same fd twice).
package final class LineChannel: @unchecked Sendable {
  /// The descriptor lines are read from.
  package let readFD: Int32
  /// The descriptor lines are written to.
  package let writeFD: Int32
  private let sendLock = NSLock()
  private var buffer: [UInt8] = []
  private var start = 0
  private var chunk = [UInt8](repeating: 0, count: 65536)
  private var writeClosed = false
  /// Lines longer than this are a protocol error (a runaway writer), not a memory hazard.
  package static let maximumLineBytes = 16 << 20

  /// A channel over `readFD` and `writeFD`; it does not close them unless asked.
  package init(readFD: Int32, writeFD: Int32) {
    self.readFD = readFD
    self.writeFD = writeFD
  }

  /// Blocks until one whole line arrives and returns it without its newline.
  ///
  /// - Returns: nil at end of file, on a hang-up, or on a read error: the peer is gone.
  package func readLine() -> String? {
    while true {
      if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
        let line = String(decoding: buffer[start..<newline], as: UTF8.self)
        start = newline + 1
        if start > 65536 {
          buffer.removeFirst(start)
          start = 0
        }
        return line
      }
      if buffer.count - start > LineChannel.maximumLineBytes { return nil }
      let count = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
      if count > 0 {
        buffer.append(contentsOf: chunk[0..<count])
      } else if count < 0 && (errno == EINTR || errno == EAGAIN) {
        if errno == EAGAIN { waitReadable() }
        continue
      } else {
        return nil
      }
    }
  }

  private func waitReadable() {
    var pfd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
    _ = poll(&pfd, 1, 1000)
  }

  /// Sends one line (a newline is appended).
  ///
  /// - Throws: `AgentError` with code `channel-closed` when the peer is gone (EPIPE, EIO).
  package func send(_ line: String) throws(AgentError) {
    var bytes = Array(line.utf8)
    bytes.append(UInt8(ascii: "\n"))
    sendLock.lock()
    defer { sendLock.unlock() }
    if writeClosed {
      throw AgentError(code: .channelClosed, message: "The channel is closed.")
    }
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes {
        Glibc.write(writeFD, $0.baseAddress, $0.count)
      }
      if written > 0 {
        offset += written
      } else if written < 0 && errno == EINTR {
        continue
      } else if written < 0 && errno == EAGAIN {
        var pfd = pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)
        _ = poll(&pfd, 1, 1000)
      } else {
        let code = errno
        throw AgentError(
          code: .channelClosed,
          message: "Writing to the channel failed: \(String(cString: strerror(code))).")
      }
    }
  }

  /// Closes the write side so the peer reads end of file; later sends fail.
  package func closeWrite() {
    sendLock.lock()
    defer { sendLock.unlock() }
    if !writeClosed {
      writeClosed = true
      if writeFD != readFD { close(writeFD) } else { shutdown(writeFD, Int32(SHUT_WR)) }
    }
  }
}
