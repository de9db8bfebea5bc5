import AgentProtocol
import Foundation
import PVBenchTestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// A sequence of requests and actions the conformance suite plays against every agent on
/// its own copy of one fake tree; the transcript (requests, replies, the events a step
/// waits for, and the files the agent changed under its root after each step, journals
/// included) must be the same for every agent, times and pids masked.
struct ConformanceScenario: Sendable, CustomTestStringConvertible {
  /// One step.
  enum Step: Sendable {
    /// Sends a line and waits for its reply, then for the first event of each name.
    case request(String, awaiting: [AgentEventName])
    /// Sends a line the agent must not answer.
    case silent(String)
    /// Writes a file of the tree behind the agent's back.
    case set(String, String)
    /// Changes a file's permissions.
    case chmod(String, mode_t)
    /// Appends to a file (the fake /dev/kmsg).
    case append(String, String)
    /// Closes the agent's input and reads what it says until it exits.
    case closeInput
    /// Sends a signal and waits for the agent to exit.
    case signal(Int32)
    /// Starts a new agent on the same tree, with extra environment variables.
    case restart([String: String])
    /// Waits for the agent to exit by itself (the crash injector).
    case waitForExit
  }

  let name: String
  let tree: @Sendable () throws -> FakeHostTree
  let steps: [Step]

  var testDescription: String { name }

  /// A request line `{"id":…,"op":…,"params":…}` (params left out when nil).
  static func request(
    _ id: Int, _ op: AgentOp, _ params: JSON? = nil, awaiting: [AgentEventName] = []
  ) -> Step {
    var body: [String: JSON] = ["id": .int(Int64(id)), "op": .string(op.rawValue)]
    if let params { body["params"] = params }
    return .request(JSON.object(body).serialized, awaiting: awaiting)
  }

  /// A raw request line, sent as it is.
  static func raw(_ line: String, awaiting: [AgentEventName] = []) -> Step {
    .request(line, awaiting: awaiting)
  }

  /// The handshake every scenario starts with.
  static let hello = request(1, .hello, ["protocol": "1.0", "version": "0.1.0"])
}

/// Plays scenarios and writes their transcripts.
struct ConformanceRecorder {
  let agent: AgentUnderTest
  /// Checks every line an agent sends.
  let schema: JSONSchemaValidator
  /// The transcript so far.
  private(set) var lines: [String] = []
  /// Lines the agent sent that break the schema, with the reason.
  private(set) var schemaErrors: [String] = []
  private var masker: Masker
  private let root: String
  private var before: [String: String]

  /// Masks what differs between runs: times, pids, the root's path.
  struct Masker {
    let root: String
    var pids: Set<String> = []
    static let timeKeys: Set<String> = [
      "monotonic_ns", "realtime_ns", "startMonotonicNanoseconds", "endMonotonicNanoseconds",
    ]

    func text(_ value: String) -> String {
      var result = value.replacingOccurrences(of: root, with: "<ROOT>")
      for pid in pids.sorted(by: { $0.count > $1.count }) {
        result = result.replacingOccurrences(
          of: "(?<![0-9])\(pid)(?![0-9])", with: "<PID>", options: .regularExpression)
      }
      return result
    }

    func value(_ json: JSON, key: String? = nil) -> JSON {
      switch json {
      case .object(let members):
        return .object(members.reduce(into: [:]) { $0[$1.key] = value($1.value, key: $1.key) })
      case .array(let elements): return .array(elements.map { value($0) })
      case .string(let string): return .string(text(string))
      case .int, .double:
        guard let key else { return json }
        if (key.hasSuffix("_ms") && key != "interval_ms") || Self.timeKeys.contains(key) {
          return "<time>"
        }
        return key == "pid" ? "<PID>" : json
      default: return json
      }
    }

    mutating func line(_ raw: String) -> String {
      guard let data = try? JSON.parse(raw) else { return "NOT JSON: " + text(raw) }
      if data["event"] == "hello", let pid = data["pid"]?.intValue { pids.insert("\(pid)") }
      if let event = data["event"]?.stringValue, Self.workloadEvents.contains(event) {
        return measured(data).serialized
      }
      return value(data).serialized
    }

    /// The events of a running workload carry measurements: their shape is compared, and
    /// of their numbers only the ones a run does not measure.
    static let workloadEvents: Set<String> = ["interval", "workload-done", "edge", "phase"]
    static let unmeasured: Set<String> = [
      "cycle", "index", "workers", "workersPerMessageThread",
      // workload-done's `sched`: counted and read from the tree, not measured.
      "threads", "read", "nr_migrations_cpu_non_preferred", "schedstats",
    ]
    static let histograms: Set<String> = ["wakeup", "request", "rpsSamples"]

    func measured(_ json: JSON, key: String? = nil) -> JSON {
      if let key, Self.histograms.contains(key) { return "<measured>" }
      switch json {
      case .object(let members):
        return .object(
          members.reduce(into: [:]) { $0[$1.key] = measured($1.value, key: $1.key) })
      case .array(let elements): return .array(elements.map { measured($0) })
      case .int, .double: return key.map(Self.unmeasured.contains) == true ? json : "<measured>"
      default: return value(json, key: key)
      }
    }
  }

  init(agent: AgentUnderTest, schema: JSONSchemaValidator, root: String) {
    self.agent = agent
    self.schema = schema
    self.root = root
    self.masker = Masker(root: root)
    self.before = Self.snapshot(root)
  }

  /// Every file and folder under `root` with its contents and permissions.
  static func snapshot(_ root: String) -> [String: String] {
    var files: [String: String] = [:]
    guard let walker = FileManager.default.enumerator(atPath: root) else { return files }
    while let relative = walker.nextObject() as? String {
      let path = root + "/" + relative
      var info = stat()
      guard lstat(path, &info) == 0 else { continue }
      if info.st_mode & S_IFMT == S_IFDIR {
        files["/" + relative] = "<dir>"
      } else {
        let contents = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<unreadable>"
        let mode = String(info.st_mode & 0o777, radix: 8)
        files["/" + relative] = "\(JSON.string(contents).serialized) 0o\(mode)"
      }
    }
    return files
  }

  private mutating func recordChanges() {
    let after = Self.snapshot(root)
    for path in Set(before.keys).union(after.keys).sorted() where before[path] != after[path] {
      let old = masker.text(before[path] ?? "missing")
      let new = masker.text(after[path] ?? "missing")
      lines.append("  ~ \(masker.text(path)): \(old) -> \(new)")
    }
    before = after
  }

  /// Masks `raw` into the transcript after checking it against the schema: the envelope,
  /// then the result of `op` or the event's own definition.
  private mutating func received(_ raw: String, op: String?) -> String {
    if let json = try? JSON.parse(raw) {
      var problems = schema.errors(json, against: schema.document)
      if let event = json["event"]?.stringValue {
        if let definition = schema.definition("event.\(event)") {
          problems += schema.errors(json, against: definition)
        } else {
          problems.append("no schema for the event '\(event)'")
        }
      } else if json["ok"] == true, let op, let result = json["result"] {
        if let definition = schema.definition("result.\(op)") {
          problems += schema.errors(result, against: definition, at: "$.result")
        } else {
          problems.append("no schema for the result of '\(op)'")
        }
      }
      schemaErrors += problems.map { "\(raw)\n    \($0)" }
    } else {
      schemaErrors.append("\(raw)\n    not JSON")
    }
    return masker.line(raw)
  }

  private mutating func start(_ environment: [String: String]) throws -> RawAgent {
    let process = try RawAgent(agent, root: root, environment: environment)
    if let hello = process.next(within: 60) {
      lines.append("<< " + received(hello, op: nil))
    } else {
      lines.append("<< (no hello)")
    }
    recordChanges()
    return process
  }

  /// Plays `steps` and returns the transcript.
  mutating func play(_ steps: [ConformanceScenario.Step]) throws -> [String] {
    var process = try start([:])
    defer { process.stop() }
    for step in steps {
      switch step {
      case .request(let raw, let awaiting):
        lines.append(">> " + raw)
        process.send(raw)
        let op = (try? JSON.parse(raw))?["op"]?.stringValue
        var seen: Set<String> = []
        var events: [String] = []  // asynchronous: after the reply, whenever they came
        while true {
          guard let line = process.next(within: 60) else {
            lines.append("<< (no reply: the agent closed its output)")
            break
          }
          let event = (try? JSON.parse(line))?["event"]?.stringValue
          if let event {
            if awaiting.contains(where: { $0.rawValue == event }), seen.insert(event).inserted {
              events.append("<< " + received(line, op: nil))
            } else {
              _ = received(line, op: nil)
            }
            continue
          }
          lines.append("<< " + received(line, op: op))
          break
        }
        lines += events
        for name in awaiting where !seen.contains(name.rawValue) {
          let deadline = Date().addingTimeInterval(10)
          while Date() < deadline, let line = process.next(within: deadline.timeIntervalSinceNow) {
            let masked = received(line, op: nil)
            if (try? JSON.parse(line))?["event"] == .string(name.rawValue) {
              lines.append("<< " + masked)
              break
            }
          }
        }
        recordChanges()
      case .silent(let raw):
        lines.append(">> " + raw)
        process.send(raw)
        var line = process.next(within: 1)
        while let event = line, event.contains("\"event\":") {
          _ = received(event, op: nil)
          line = process.next(within: 1)
        }
        lines.append("<< " + (line.map { received($0, op: nil) } ?? "(nothing, as expected)"))
      case .set(let path, let contents):
        try Data(contents.utf8).write(to: URL(fileURLWithPath: root + path))
        lines.append("## set \(path) to \(JSON.string(contents).serialized)")
        recordChanges()
      case .chmod(let path, let mode):
        Glibc.chmod(root + path, mode)
        lines.append("## chmod 0o\(String(mode, radix: 8)) \(path)")
      case .append(let path, let text):
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: root + path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
        lines.append("## appended to \(path)")
      case .closeInput:
        process.closeInput()
        var rest: [String] = []
        while let line = process.next(within: 60) {
          let masked = received(line, op: nil)
          if !line.contains("\"event\":\"samples\"") { rest.append("<< " + masked) }
        }
        let status = process.waitForExit()
        lines.append(
          "## stdin closed; exit status \(status.map(String.init) ?? "none: still running")")
        lines += rest
        recordChanges()
      case .signal(let number):
        kill(process.child.pid, number)
        let status = process.waitForExit()
        lines.append("## signal \(number); exit status \(status.map(String.init) ?? "none")")
        recordChanges()
      case .restart(let environment):
        if process.child.isRunning {
          process.closeInput()
          _ = process.waitForExit()
        }
        let with = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        lines.append("## new agent" + (with.isEmpty ? "" : " with \(with.joined(separator: " "))"))
        process = try start(environment)
      case .waitForExit:
        let status = process.waitForExit()
        lines.append("## agent ended; exit status \(status.map(String.init) ?? "none")")
        recordChanges()
      }
    }
    return lines
  }
}

/// The recorded transcripts the suite compares with (agent/conformance/transcripts),
/// written from the Swift agent when `RECORD_SNAPSHOTS` is set.
enum ConformanceTranscripts {
  static var folder: URL {
    CLI.packageRoot.appendingPathComponent("agent/conformance/transcripts")
  }

  static func url(_ scenario: String) -> URL {
    folder.appendingPathComponent("\(scenario).txt")
  }

  static var recording: Bool { ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil }

  /// The lines that differ, as a short report: at most `limit` of them, each with both
  /// sides.
  static func differences(_ expected: [String], _ actual: [String], limit: Int = 12) -> [String] {
    var report: [String] = []
    for index in 0..<max(expected.count, actual.count) where report.count < limit * 2 {
      let want = index < expected.count ? expected[index] : "(nothing)"
      let got = index < actual.count ? actual[index] : "(nothing)"
      if want != got {
        report.append("line \(index + 1) expected: \(want)")
        report.append("line \(index + 1)      got: \(got)")
      }
    }
    return report
  }
}
