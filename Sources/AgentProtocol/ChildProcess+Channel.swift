import LinuxHost

extension ChildProcess {
  /// A line channel over the child's stdout (read) and stdin (write); the channel's
  /// `closeWrite()` closes the child's stdin.
  package func channel() -> LineChannel { LineChannel(readFD: stdoutRead, writeFD: stdinWrite) }
}
