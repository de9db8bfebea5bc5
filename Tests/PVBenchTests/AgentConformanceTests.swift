import AgentProtocol
import Foundation
import PVBenchTestSupport
import Testing

/// One behaviour for every agent (issue 22): the Swift agent and the portable agent, native
/// and cross-built under `qemu-*-static`, play the same scenarios on the same fake trees and
/// must say the same things, leave the same files (journals included) and validate against
/// docs/agent-protocol.schema.json line by line.
///
/// The expected transcripts are agent/conformance/transcripts/*.txt; `RECORD_SNAPSHOTS=1`
/// re-records them (and docs/agent-session.jsonl) from the Swift agent.
@Suite struct AgentConformanceTests {
  static let schema: JSONSchemaValidator = {
    let url = CLI.packageRoot.appendingPathComponent("docs/agent-protocol.schema.json")
    let text = (try? String(contentsOf: url, encoding: .utf8)) ?? "{}"
    return JSONSchemaValidator(document: (try? JSON.parse(text)) ?? [:])
  }()

  @Test(arguments: AgentUnderTest.all, ConformanceScenario.all)
  func scenario(agent: AgentUnderTest, scenario: ConformanceScenario) throws {
    guard agent.isAvailable() else { return }
    let tree = try scenario.tree()
    defer { tree.remove() }
    var recorder = ConformanceRecorder(agent: agent, schema: Self.schema, root: tree.root)
    let transcript = try recorder.play(scenario.steps)
    #expect(recorder.schemaErrors == [], "\(agent.name), \(scenario.name): lines off the schema")
    let url = ConformanceTranscripts.url(scenario.name)
    if ConformanceTranscripts.recording && agent == .swift {
      try FileManager.default.createDirectory(
        at: ConformanceTranscripts.folder, withIntermediateDirectories: true)
      try (transcript.joined(separator: "\n") + "\n").write(
        to: url, atomically: true, encoding: .utf8)
      return
    }
    let recorded = try String(contentsOf: url, encoding: .utf8)
    let expected = recorded.split(separator: "\n", omittingEmptySubsequences: false)
      .dropLast().map(String.init)
    let differences = ConformanceTranscripts.differences(expected, transcript)
    #expect(
      differences.isEmpty,
      "\(agent.name) differs from \(url.lastPathComponent):\n\(differences.joined(separator: "\n"))"
    )
  }

  /// docs/agent-session.jsonl replays against every agent with the same replies.
  @Test(arguments: AgentUnderTest.all)
  func recordedSessionReplays(agent: AgentUnderTest) throws {
    guard agent.isAvailable() else { return }
    let tree = try FakeHostTree(entitledCapacity: 2)
    defer { tree.remove() }
    let url = CLI.packageRoot.appendingPathComponent("docs/agent-session.jsonl")
    let session = try AgentSession.load(url)
    if ConformanceTranscripts.recording && agent == .swift {
      let recorded = try AgentSession.record(agent, root: tree.root, requests: session.requests)
      try recorded.write(to: url)
      return
    }
    let replayed = try AgentSession.record(agent, root: tree.root, requests: session.requests)
    #expect(replayed.schemaErrors == [], "\(agent.name): lines off the schema")
    let differences = ConformanceTranscripts.differences(
      session.entries.map(\.serialized), replayed.entries.map(\.serialized))
    #expect(differences.isEmpty, "\(agent.name):\n\(differences.joined(separator: "\n"))")
  }

  /// The schema names every op, event and error code of AgentProtocol, and no other.
  @Test func schemaCoversTheWholeProtocol() throws {
    let schema = Self.schema
    let request = try #require(schema.definition("request"))
    #expect(
      Set(request["properties"]?["op"]?["enum"]?.arrayValue ?? [])
        == Set(AgentOp.allCases.map { JSON.string($0.rawValue) }))
    let event = try #require(schema.definition("event"))
    #expect(
      Set(event["properties"]?["event"]?["enum"]?.arrayValue ?? [])
        == Set(AgentEventName.allCases.map { JSON.string($0.rawValue) }))
    let error = try #require(schema.definition("error"))
    #expect(
      Set(error["properties"]?["code"]?["enum"]?.arrayValue ?? [])
        == Set(AgentError.Code.allCases.map { JSON.string($0.rawValue) }))
    for op in AgentOp.allCases {
      #expect(schema.definition("result.\(op.rawValue)") != nil, "result of \(op.rawValue)")
    }
    for name in AgentEventName.allCases {
      #expect(schema.definition("event.\(name.rawValue)") != nil, "event \(name.rawValue)")
    }
    let every = (schema.document["$defs"]?.objectValue ?? [:]).values + [schema.document]
    for definition in every {
      #expect(
        schema.errors(.null, against: definition).allSatisfy { !$0.contains("the validator") })
    }
  }

  /// The validator fails what it should: a check that cannot fail would prove nothing.
  @Test func validatorRejectsWhatTheSchemaForbids() {
    let validator = JSONSchemaValidator(document: [
      "$defs": ["count": ["type": "integer"]],
      "type": "object", "required": ["a"], "additionalProperties": false,
      "properties": [
        "a": ["$ref": "#/$defs/count"], "b": ["enum": ["x", "y"]],
        "c": ["type": "array", "items": ["type": "string"]],
        "d": ["oneOf": [["type": "string"], ["type": "null"]]],
      ],
    ])
    let schema = validator.document
    #expect(validator.errors(["a": 1, "b": "x", "c": ["s"], "d": .null], against: schema) == [])
    #expect(validator.errors(["a": 1.0], against: schema) == [])
    #expect(validator.errors(["a": 1.5], against: schema) == ["$.a: expected integer, got 1.5"])
    #expect(validator.errors(["b": "x"], against: schema) == ["$: missing 'a'"])
    #expect(validator.errors(["a": 1, "z": 1], against: schema) == ["$: unexpected key 'z'"])
    #expect(
      validator.errors(["a": 1, "b": "q"], against: schema) == [
        #"$.b: "q" is not one of ["x","y"]"#
      ])
    #expect(
      validator.errors(["a": 1, "c": [1]], against: schema) == ["$.c[0]: expected string, got 1"]
    )
    #expect(
      validator.errors(["a": 1, "d": 2], against: schema) == [
        "$.d: matches 0 of the 2 choices of oneOf, not 1"
      ])
    #expect(
      validator.errors(1, against: ["maximum": 3]) == [
        "$: the schema uses 'maximum', which the validator does not know"
      ])
  }
}

/// docs/agent-session.jsonl: a short session on a fake tree, one JSON object per line:
/// `{"send":REQUEST}` for what the controller sent and `{"recv":LINE}` for each reply and
/// event the agent sent, times, pids and the root masked as in the transcripts.
struct AgentSession {
  var entries: [JSON] = []
  var schemaErrors: [String] = []

  /// The requests, in order.
  var requests: [JSON] { entries.compactMap { $0["send"] } }

  static func load(_ url: URL) throws -> AgentSession {
    let text = try String(contentsOf: url, encoding: .utf8)
    return AgentSession(
      entries: try text.split(separator: "\n").map { try JSON.parse($0) })
  }

  func write(to url: URL) throws {
    try (entries.map(\.serialized).joined(separator: "\n") + "\n").write(
      to: url, atomically: true, encoding: .utf8)
  }

  /// Plays `requests` against `agent`: after each, its reply, then the first event of each
  /// name the request starts (`samples` after `sample.start`).
  static func record(_ agent: AgentUnderTest, root: String, requests: [JSON]) throws
    -> AgentSession
  {
    let schema = AgentConformanceTests.schema
    var masker = ConformanceRecorder.Masker(root: root)
    var session = AgentSession()
    let process = try RawAgent(agent, root: root)
    defer { process.stop() }
    func receive(_ line: String, op: String?) {
      guard let json = try? JSON.parse(line) else {
        session.schemaErrors.append("not JSON: \(line)")
        return
      }
      var problems = schema.errors(json, against: schema.document)
      if let event = json["event"]?.stringValue,
        let definition = schema.definition("event.\(event)")
      {
        problems += schema.errors(json, against: definition)
      } else if let op, json["ok"] == true, let definition = schema.definition("result.\(op)") {
        problems += schema.errors(json["result"] ?? .null, against: definition, at: "$.result")
      }
      session.schemaErrors += problems.map { "\(line)\n    \($0)" }
      session.entries.append(["recv": (try? JSON.parse(masker.line(line))) ?? .null])
    }
    if let hello = process.next(within: 60) { receive(hello, op: nil) }
    for request in requests {
      session.entries.append(["send": request])
      process.send(request.serialized)
      let op = request["op"]?.stringValue
      var awaiting: Set<String> = op == AgentOp.sampleStart.rawValue ? ["samples"] : []
      while let line = process.next(within: 60) {
        let event = (try? JSON.parse(line))?["event"]?.stringValue
        if event == nil {
          receive(line, op: op)
          break
        }
      }
      let deadline = Date().addingTimeInterval(10)
      while !awaiting.isEmpty, Date() < deadline,
        let line = process.next(within: deadline.timeIntervalSinceNow)
      {
        if let event = (try? JSON.parse(line))?["event"]?.stringValue,
          awaiting.remove(event) != nil
        {
          receive(line, op: nil)
        }
      }
    }
    return session
  }
}
