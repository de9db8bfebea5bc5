import AgentProtocol
import Foundation
import LinuxHost

/// An agent process spoken to line by line, below the controller's client: the
/// conformance suite sends lines no controller would (malformed JSON, unknown ops) and
/// reads every line the agent writes, events included, with a time limit.
final class RawAgent: @unchecked Sendable {
  let child: ChildProcess
  private let channel: LineChannel
  private let condition = NSCondition()
  private var lines: [String] = []
  private var ended = false

  /// Starts `agent` on `root` and a thread that queues what it writes.
  /// - Throws: `ChildProcess.SpawnError` when it cannot start.
  init(_ agent: AgentUnderTest, root: String, environment: [String: String] = [:]) throws {
    child = try agent.spawn(root: root, environment: environment)
    channel = child.channel()
    let thread = Thread { [channel, condition] in
      while let line = channel.readLine() {
        condition.lock()
        self.lines.append(line)
        condition.signal()
        condition.unlock()
      }
      condition.lock()
      self.ended = true
      condition.broadcast()
      condition.unlock()
    }
    thread.start()
  }

  /// The next line the agent wrote, or nil when none came within `seconds` or its output
  /// ended.
  func next(within seconds: Double) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    condition.lock()
    defer { condition.unlock() }
    while lines.isEmpty && !ended {
      if !condition.wait(until: deadline) { break }
    }
    return lines.isEmpty ? nil : lines.removeFirst()
  }

  /// Sends one line (the agent may be gone: then nothing happens).
  func send(_ line: String) { try? channel.send(line) }

  /// Closes the agent's input (end of file: its controller is gone).
  func closeInput() { channel.closeWrite() }

  /// Waits up to `seconds` for the agent to exit and returns its status (128 + signal for
  /// a killed one), or nil when it is still running; then it is killed.
  func waitForExit(within seconds: Double = 60) -> Int32? {
    let deadline = Date().addingTimeInterval(seconds)
    while child.isRunning && Date() < deadline { usleep(5_000) }
    if child.isRunning {
      child.finish(grace: 0)
      return nil
    }
    return child.terminationStatus
  }

  /// Ends the agent for good (closing its input first, so it restores).
  func stop() {
    closeInput()
    child.finish(grace: 30)
  }
}
