/// A host file that could not be read or did not have the kernel's format.
public enum HostFileError: Error, Sendable, Equatable, CustomStringConvertible {
  /// `path` is missing, unreadable or malformed; `reason` says which, in a full clause.
  case unreadable(path: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let path, let reason): "Could not read \(path): \(reason)."
    }
  }
}
