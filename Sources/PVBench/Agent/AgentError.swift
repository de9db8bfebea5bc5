/// An error the agent reports in a reply, or the client raises, with a stable code.
struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Stable machine-readable error codes (documented in docs/agent-protocol.md).
  enum Code: String, Sendable, CaseIterable {
    case malformed = "malformed"
    case unknownOp = "unknown-op"
    case badParams = "bad-params"
    case handshakeRequired = "handshake-required"
    case protocolMismatch = "protocol-mismatch"
    case unsupported = "unsupported"
    case kernelRefused = "kernel-refused"
    case verifyFailed = "verify-failed"
    case busy = "busy"
    case timeout = "timeout"
    case channelClosed = "channel-closed"
    case failed = "failed"
  }

  /// The stable code.
  var code: Code
  /// A full sentence a person reads.
  var message: String

  var description: String { message }

  /// The `error` object of a reply.
  var json: JSON { ["code": .string(code.rawValue), "message": .string(message)] }
}
