import Foundation
import Yams

/// Reads a testbeds file and checks it against an experiment, reporting every problem
/// at once as `file:line:column` diagnostics, as `ExperimentLoader` does.
package enum TestbedsLoader {
  /// Loads `path` and checks each testbed against `experiment`'s hosts.
  ///
  /// Every `ssh` host the experiment's roles use needs an address on every testbed (two
  /// testbeds driving the same machine would measure each other); a `local` host may
  /// be given a root folder; a `qemu` guest boots on the machine that runs the shard
  /// and takes no address. Two testbeds must not give one host the same address.
  /// - Throws: `SpecError` with one diagnostic per problem. Nothing else is thrown.
  package static func load(path: String, experiment: Experiment) throws(SpecError)
    -> TestbedSet
  {
    func fail(_ message: String, line: Int? = 1, column: Int? = 1) -> SpecError {
      SpecError(diagnostics: [
        Diagnostic(file: path, line: line, column: column, keyPath: "", message: message)
      ])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw fail("no such file, or it cannot be read", line: nil, column: nil)
    }
    guard let text = String(data: data, encoding: .utf8), !data.contains(0) else {
      throw fail("this is not a UTF-8 text file; give a YAML file")
    }
    let root: Node
    do {
      guard let composed = try Yams.compose(yaml: text) else {
        throw fail("the file is empty; it needs a 'testbeds' mapping")
      }
      root = composed
    } catch let error as SpecError {
      throw error
    } catch let error as YamlError {
      throw ExperimentLoader.syntaxError(error, path: path)
    } catch {
      throw fail("cannot parse the file: \(error)")
    }
    let sink = DiagnosticSink(file: path)
    let testbeds = decode(root, experiment: experiment, sink: sink)
    guard sink.isEmpty else {
      let ordered = sink.diagnostics.enumerated().sorted {
        ($0.element.line ?? 0, $0.element.column ?? 0, $0.offset)
          < ($1.element.line ?? 0, $1.element.column ?? 0, $1.offset)
      }
      throw SpecError(diagnostics: ordered.map(\.element))
    }
    return TestbedSet(path: path, testbeds: testbeds)
  }

  static func decode(_ root: Node, experiment: Experiment, sink: DiagnosticSink) -> [Testbed] {
    let top = NodeReader(node: root, path: [], sink: sink)
    guard let map = top.mapping(allowed: ["testbeds"]), let section = map.required("testbeds")
    else { return [] }
    return decode(section: section, experiment: experiment, sink: sink)
  }

  /// The `testbeds` mapping itself: of a testbeds file, or a section of the experiment file.
  package static func decode(section: NodeReader, experiment: Experiment, sink: DiagnosticSink)
    -> [Testbed]
  {
    guard let entries = section.anyMapping() else { return [] }
    if entries.isEmpty { section.error("name at least one testbed") }
    let roleHosts = Set(experiment.roleHosts.map(\.name))
    let hostNames = experiment.hosts.map(\.name)
    var testbeds: [Testbed] = []
    // (host, address) → the testbed that gave it first.
    var owners: [String: String] = [:]
    for (name, nameMark, value) in entries {
      if name.isEmpty
        || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
      {
        sink.error(
          "a testbed name takes letters, digits, '-' and '_' only (it names a Slurm "
            + "license and a folder), got '\(name)'", at: nameMark, keyPath: "testbeds")
      }
      guard let hosts = value.anyMapping() else { continue }
      var addresses: [Testbed.Address] = []
      for (host, hostMark, addressReader) in hosts {
        guard let spec = experiment.host(named: host) else {
          let hint =
            NodeReader.suggestion(for: host, among: hostNames).map { " (did you mean '\($0)'?)" }
            ?? ""
          sink.error(
            "the experiment has no host '\(host)'\(hint); its hosts are "
              + NodeReader.list(hostNames), at: hostMark, keyPath: value.keyPath)
          continue
        }
        guard let address = addressReader.string() else { continue }
        switch spec.transport {
        case .qemu:
          sink.error(
            "'\(host)' is a qemu guest: it boots on the machine that runs the shard and takes "
              + "no address; leave it out", at: hostMark, keyPath: value.keyPath)
          continue
        case .local:
          if !address.hasPrefix("/") {
            addressReader.error(
              "'\(host)' is a local host: its address on a testbed is the absolute root folder "
                + "its agent acts on, got '\(address)'")
            continue
          }
        case .ssh:
          break
        }
        let key = "\(host)\u{0}\(address)"
        if let owner = owners[key] {
          addressReader.error(
            "testbed '\(owner)' already gives '\(host)' the address '\(address)'; two "
              + "testbeds must not share a host")
        } else {
          owners[key] = name
        }
        addresses.append(Testbed.Address(host: host, address: address))
      }
      for spec in experiment.hosts where roleHosts.contains(spec.name) {
        if case .ssh = spec.transport, !addresses.contains(where: { $0.host == spec.name }),
          !hosts.contains(where: { $0.key == spec.name })
        {
          value.error(
            "missing host '\(spec.name)': every ssh host of the experiment needs its address "
              + "on each testbed")
        }
      }
      testbeds.append(Testbed(name: name, addresses: addresses))
    }
    return testbeds
  }
}
