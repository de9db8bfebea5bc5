#if canImport(Glibc)
  import Glibc
#endif

/// A failure of a workload at run time, worded for the person who ran it.
public enum WorkloadError: Error, Sendable, Equatable, CustomStringConvertible {
  /// pthread_create failed.
  case threadStart(name: String, errno: Int32)
  /// A flag or option value is invalid; the text is the whole sentence.
  case invalidOption(String)
  /// A file such as /proc/stat could not be read or parsed.
  case unreadable(path: String, reason: String)
  /// A child process (stress-ng) could not be started.
  case spawn(command: String, errno: Int32)
  /// `start` was called twice.
  case alreadyStarted

  public var description: String {
    switch self {
    case .threadStart(let name, let code):
      return
        "Could not start the thread '\(name)': \(String(cString: strerror(code))). "
        + "Lower the thread count or raise the task limit (ulimit -u)."
    case .invalidOption(let text):
      return text
    case .unreadable(let path, let reason):
      return "Could not read \(path): \(reason)."
    case .spawn(let command, let code):
      return
        "Could not start '\(command)': \(String(cString: strerror(code))). "
        + "Install it or choose '--engine builtin'."
    case .alreadyStarted:
      return "The workload was already started; create a new one to run again."
    }
  }
}
