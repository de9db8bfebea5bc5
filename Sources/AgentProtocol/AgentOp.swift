/// Every request a controller may send (docs/agent-protocol.md, "Requests"): the `op`
/// member, spelled here once for the Swift agent, the controller and the tests. The
/// portable agent (agent/proto.c) serves the same list.
package enum AgentOp: String, Sendable, CaseIterable {
  case hello = "hello"
  case ping = "ping"
  case clock = "clock"
  case facts = "facts"
  case modeApply = "mode.apply"
  case modeVerify = "mode.verify"
  case modeRestore = "mode.restore"
  case sampleStart = "sample.start"
  case sampleStop = "sample.stop"
  case kmsgWatch = "kmsg.watch"
  case workloadStart = "workload.start"
  case workloadStop = "workload.stop"
  case stressStart = "stress.start"
  case stressStop = "stress.stop"
  case shutdown = "shutdown"
}

/// Every unsolicited event an agent may send (docs/agent-protocol.md, "Events"): the
/// `event` member.
package enum AgentEventName: String, Sendable, CaseIterable {
  case hello = "hello"
  case samples = "samples"
  case kernelWarning = "kernel-warning"
  case interval = "interval"
  case workloadDone = "workload-done"
  case edge = "edge"
  case phase = "phase"
  /// Protocol 1.2: the kernel's preferred CPUs changed (`PreferredEvent`).
  case preferred = "preferred"
}
