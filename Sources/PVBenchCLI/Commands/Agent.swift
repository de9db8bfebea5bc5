import AgentProtocol
import ArgumentParser
import Foundation
import HostAgent
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

extension PVBench {
  struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "agent",
      abstract: """
        Serve the agent protocol on stdio or a virtio-serial port (used by the \
        controller).
        """,
      discussion: """
        Newline-delimited JSON requests and replies; see docs/agent-protocol.md. The first \
        line out is the hello event. Restores the host on exit, on SIGINT/SIGTERM/SIGHUP \
        and when the controller disappears (end of file or hang-up).
        """
    )

    @Flag(help: "Serve on standard input and output.")
    var stdio = false

    @Option(help: "Serve on this character device (e.g. /dev/vport0p1), opened read-write.")
    var device: String?

    @Option(help: "Root of the sysfs/procfs/cgroup tree (tests point it at a fake tree).")
    var root: String = "/"

    @Option(help: "Restore journal path under the root (default /run/pvbench/journal-PID.jsonl).")
    var journal: String?

    func validate() throws {
      if stdio == (device != nil) {
        throw ValidationError("Give exactly one of '--stdio' or '--device PATH'.")
      }
      if !root.hasPrefix("/") {
        throw ValidationError("'--root' must be an absolute path, got '\(root)'.")
      }
    }

    func run() async throws {
      let channel: LineChannel
      if let device {
        let fd = open(device, O_RDWR | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
          throw CommandFailure(
            .runtimeFailure,
            "pvbench agent: cannot open '\(device)': \(String(cString: strerror(errno))); "
              + "check the virtio-serial port name under /dev.")
        }
        if isatty(fd) != 0 {
          // A console or pty: no echo, no line editing, bytes as they come.
          var settings = termios()
          tcgetattr(fd, &settings)
          cfmakeraw(&settings)
          tcsetattr(fd, TCSANOW, &settings)
        }
        channel = LineChannel(readFD: fd, writeFD: fd)
      } else {
        channel = LineChannel(readFD: 0, writeFD: 1)
      }
      let server = AgentServer(
        channel: channel, paths: HostPaths(root: root),
        journalPath: journal ?? RestoreJournal.defaultPath())
      await Self.serve(server)
    }

    /// Runs the server on its own thread until its controller goes away, restoring the host
    /// and exiting with status 130 on SIGINT/SIGTERM/SIGHUP.
    static func serve(_ server: AgentServer) async {
      signal(SIGPIPE, SIG_IGN)
      var sources: [any DispatchSourceSignal] = []
      for number in [SIGINT, SIGTERM, SIGHUP] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
          if let problem = server.finish() {
            printToStandardError("pvbench agent: signal \(number) received; \(problem)")
          } else {
            printToStandardError(
              "pvbench agent: signal \(number) received; the host is restored and read back.")
          }
          Glibc.exit(ExitStatus.interrupted.rawValue)
        }
        source.resume()
        sources.append(source)
      }
      let ending = await withCheckedContinuation {
        (continuation: CheckedContinuation<AgentServer.Ending, Never>) in
        let thread = Thread { continuation.resume(returning: server.run()) }
        thread.name = "pvbench-agent"
        thread.start()
      }
      _ = ending
      for source in sources { source.cancel() }
    }
  }
}
