import Foundation
import LinuxHost
import Vocabulary
import Workloads
import Yams

/// One point of the sweep: the swept values and the experiment resolved at them.
package struct SweepPoint: Sendable, Equatable {
  /// Swept key paths and their values in file order, normalised (`10s`, not `10000ms`).
  package var values: [(key: String, value: String)]
  package var experiment: Experiment

  package static func == (lhs: SweepPoint, rhs: SweepPoint) -> Bool {
    lhs.values.elementsEqual(rhs.values) { $0 == $1 } && lhs.experiment == rhs.experiment
  }
}

/// A checked experiment file: the experiment as written and each point of its sweep.
package struct LoadedExperiment: Sendable {
  package var path: String
  package var text: String
  package var experiment: Experiment
  package var points: [SweepPoint]
  /// Problems that do not stop the run (a schedule with few clean intervals), in file order.
  package var warnings: [Diagnostic] = []
  /// The file's own `testbeds:` section (docs/shards.md), checked against its hosts.
  package var testbeds: TestbedSet?
}

/// Reads an experiment file and reports every problem in it at once.
package enum ExperimentLoader {
  /// Loads, decodes and checks `path`, resolving every sweep point.
  /// - Parameters:
  ///   - presentCPUs: the CPUs present under a root (`/` for this machine, or a `local`
  ///     host's `root:`); the caller reads them, so decoding never probes the machine.
  /// - Throws: `SpecError` with one diagnostic per problem. Nothing else is thrown.
  package static func load(path: String, presentCPUs: @escaping (_ root: String) -> CPUSet)
    throws(SpecError)
    -> LoadedExperiment
  {
    let sink = DiagnosticSink(file: path)
    func fail(_ message: String, line: Int? = 1, column: Int? = 1) -> SpecError {
      SpecError(diagnostics: [
        Diagnostic(file: path, line: line, column: column, keyPath: "", message: message)
      ])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      var isDirectory: ObjCBool = false
      let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
      let why =
        !exists
        ? "no such file"
        : isDirectory.boolValue
          ? "this is a folder, not a file"
          : "the file cannot be read (check its permissions)"
      throw fail(why, line: nil, column: nil)
    }
    if let nul = data.firstIndex(of: 0) {
      throw fail("this is not a text file (a NUL byte at offset \(nul)); give a YAML file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw fail("this file is not UTF-8 text; give a YAML file")
    }
    if text.trimmingWhitespace().isEmpty
      || text.split(separator: "\n").allSatisfy({
        $0.trimmingWhitespace().isEmpty || $0.trimmingWhitespace().hasPrefix("#")
      })
    {
      throw fail(
        "the file is empty; an experiment needs at least 'name', 'hosts', 'measure' and 'modes'")
    }
    let root: Node
    do {
      guard let composed = try Yams.compose(yaml: text) else {
        throw fail("the file is empty")
      }
      root = composed
    } catch let error as SpecError {
      throw error
    } catch let error as YamlError {
      throw syntaxError(error, path: path)
    } catch {
      throw fail("cannot parse the file: \(error)")
    }

    let decoder = ExperimentDecoder(
      sink: sink, localCPUs: presentCPUs("/"), presentCPUs: presentCPUs)
    let base = decoder.decode(root)
    var points: [SweepPoint] = []
    var testbeds: TestbedSet?
    if let base {
      points = expand(base: base, root: root, decoder: decoder)
      if let section = root.mapping?["testbeds"] {
        let reader = NodeReader(node: section, path: ["testbeds"], sink: sink)
        testbeds = TestbedSet(
          path: path, testbeds: TestbedsLoader.decode(section: reader, experiment: base, sink: sink)
        )
      }
    }
    guard sink.isEmpty, let base else {
      // In file order, as a compiler lists them; problems without a place come first.
      let ordered = sink.diagnostics.enumerated().sorted {
        ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset)
          < ($1.element.line ?? 0, $1.element.column ?? 0, $1.offset)
      }
      throw SpecError(diagnostics: ordered.map(\.element))
    }
    let warnings = sink.warnings.enumerated().sorted {
      ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset)
        < ($1.element.line ?? 0, $1.element.column ?? 0, $1.offset)
    }.map(\.element)
    return LoadedExperiment(
      path: path, text: text, experiment: base, points: points, warnings: warnings,
      testbeds: testbeds)
  }

  /// Turns libyaml's errors into `path:line:column` diagnostics.
  package static func syntaxError(_ error: YamlError, path: String) -> SpecError {
    func diagnostic(_ message: String, _ mark: Mark?) -> SpecError {
      SpecError(diagnostics: [
        Diagnostic(
          file: path, line: mark?.line ?? 1, column: mark?.column ?? 1, keyPath: "",
          message: message)
      ])
    }
    switch error {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      let detail = context.map { " \($0.text)" } ?? ""
      return diagnostic("YAML syntax: \(problem)\(detail)", mark)
    case .duplicatedKeysInMapping(let duplicates, let context):
      return diagnostic(
        "the key \(NodeReader.list(duplicates)) appears twice in one mapping", context.mark)
    case .reader(let problem, let offset, _, _):
      return diagnostic("cannot read the text: \(problem) at byte \(offset ?? 0)", nil)
    default:
      return diagnostic("YAML error: \(error)", nil)
    }
  }

  // MARK: Sweep

  /// Every combination of the swept values, in file order, each decoded from the file
  /// with the values substituted (so a bad swept value is reported where it is written).
  package static func expand(base: Experiment, root: Node, decoder: ExperimentDecoder)
    -> [SweepPoint]
  {
    let axes = base.sweep.filter { $0.sameAs == nil }
    guard !axes.isEmpty else { return [SweepPoint(values: [], experiment: base)] }
    guard let sweepNode = root.mapping?["sweep"]?.mapping else { return [] }
    // Marks of the sweep keys and values, to report at the right place.
    var keyMarks: [String: Mark] = [:]
    var valueNodes: [String: [Node]] = [:]
    for (key, value) in sweepNode {
      guard let name = key.string else { continue }
      keyMarks[name] = key.mark
      valueNodes[name] = value.sequence.map(Array.init) ?? []
    }
    var combinations: [[(axis: SweepAxis, index: Int)]] = [[]]
    for axis in axes {
      combinations = combinations.flatMap { prefix in
        axis.values.indices.map { prefix + [(axis, $0)] }
      }
    }
    var points: [SweepPoint] = []
    var unresolvable: Set<String> = []
    for combination in combinations {
      var tree = root
      var values: [(String, String)] = []
      var ok = true
      for (axis, index) in combination {
        let node = valueNodes[axis.keyPath]?[index] ?? Node(axis.values[index])
        let targets =
          [axis.keyPath] + base.sweep.filter { $0.sameAs == axis.keyPath }.map(\.keyPath)
        for target in targets {
          guard
            let replaced = substitute(
              in: tree, path: components(of: target)[...], value: node, keyMark: keyMarks[target])
          else {
            if unresolvable.insert(target).inserted {
              decoder.sink.error(
                "'\(target)' names nothing in this file; a swept key must sit in an existing "
                  + "section (e.g. 'noise.stress.busy')",
                at: keyMarks[target].map { ($0.line, $0.column) }, keyPath: "sweep")
            }
            // Keep decoding the other values so that their problems show in this pass too.
            ok = false
            continue
          }
          tree = replaced
          values.append((target, normalise(axis.values[index])))
        }
      }
      guard let experiment = decoder.decode(tree), ok else { continue }
      points.append(SweepPoint(values: values, experiment: experiment))
    }
    return points
  }

  /// `modes[1].cpus` and `modes.1.cpus` both address the second mode.
  package static func components(of keyPath: String) -> [String] {
    keyPath.replacingOccurrences(of: "[", with: ".").replacingOccurrences(of: "]", with: "")
      .split(separator: ".").map(String.init)
  }

  /// A copy of `node` with the scalar at `path` replaced by `value`; the last key may be
  /// new (an optional key the file leaves out). Nil when the path does not lead anywhere.
  package static func substitute(
    in node: Node, path: ArraySlice<String>, value: Node, keyMark: Mark?
  )
    -> Node?
  {
    guard let head = path.first else {
      if case .scalar = node { return value }
      return nil
    }
    let rest = path.dropFirst()
    switch node {
    case .mapping(let mapping):
      var pairs = Array(mapping.map { ($0.key, $0.value) })
      if let index = pairs.firstIndex(where: { $0.0.string == head }) {
        guard let child = substitute(in: pairs[index].1, path: rest, value: value, keyMark: keyMark)
        else { return nil }
        pairs[index].1 = child
      } else if rest.isEmpty {
        pairs.append((Node.scalar(.init(head, .implicit, .any, keyMark)), value))
      } else {
        return nil
      }
      return .mapping(Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark))
    case .sequence(let sequence):
      var items = Array(sequence)
      // A mode written as `- hotplug: {…}` is addressed as modes.1.hotplug.cpus.
      guard let index = Int(head), items.indices.contains(index),
        let child = substitute(in: items[index], path: rest, value: value, keyMark: keyMark)
      else { return nil }
      items[index] = child
      return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark))
    default:
      return nil
    }
  }

  /// The canonical text of a swept value: `10000ms` and `10s` are the same point.
  package static func normalise(_ value: String) -> String {
    if let duration = DurationValue(parsing: value) { return duration.description }
    return value.trimmingWhitespace()
  }
}
