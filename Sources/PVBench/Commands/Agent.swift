import ArgumentParser

extension PVBench {
  struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "agent",
      abstract: """
        Serve the agent protocol on stdio or a virtio-serial port (used by the \
        controller).
        """,
      discussion: """
        Newline-delimited JSON requests and replies; see docs/agent-protocol.md. \
        Restores the host on exit, on signals and when the controller disappears.
        """
    )

    func run() async throws {
      try notBuiltYet("agent", issue: 4)
    }
  }
}
