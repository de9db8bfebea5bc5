/// An error the agent reports in a reply, or the client raises, with a stable code.
package struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
  /// Stable machine-readable error codes (documented in docs/agent-protocol.md).
  package enum Code: String, Sendable, CaseIterable {
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
  package var code: Code
  /// A full sentence a person reads.
  package var message: String

  package var description: String { message }

  /// The `error` object of a reply.
  package var json: JSON { ["code": .string(code.rawValue), "message": .string(message)] }

  /// Memberwise.
  package init(
    code: Code,
    message: String
  ) {
    self.code = code
    self.message = message
  }
}
