/// One testbed of a lab: where each host of an experiment lives on it.
///
/// A lab with several identical testbeds (a pair of LPARs per machine, two guests per
/// host) runs one plan across all of them; each shard of the plan runs on one testbed.
package struct Testbed: Sendable, Equatable, Codable {
  /// Letters, digits, '-' and '_': it names a Slurm license and a folder.
  package var name: String
  /// Host name of the experiment → its address on this testbed, in file order.
  package var addresses: [Address]

  package struct Address: Sendable, Equatable, Codable {
    package var host: String
    /// For an `ssh` host the host name (or ssh-config alias) that replaces `ssh.host`;
    /// for a `local` host the root folder its agent acts on (`local.root`).
    package var address: String

    package init(host: String, address: String) {
      self.host = host
      self.address = address
    }
  }

  package init(name: String, addresses: [Address]) {
    self.name = name
    self.addresses = addresses
  }

  package func address(of host: String) -> String? {
    addresses.first { $0.host == host }?.address
  }

  /// `host`'s transport on this testbed: the experiment's, with the address put in.
  package func transport(of host: HostSpec) -> HostTransport {
    guard let address = address(of: host.name) else { return host.transport }
    switch host.transport {
    case .ssh(var ssh):
      ssh.host = address
      return .ssh(ssh)
    case .local:
      return .local(root: address)
    case .qemu:
      // The loader refuses addresses for qemu guests: they boot where the shard runs.
      return host.transport
    }
  }
}

/// A checked testbeds file (`testbeds: { tb1: { lpar1: addr, … }, tb2: {…} }`).
package struct TestbedSet: Sendable, Equatable {
  package var path: String
  package var testbeds: [Testbed]

  package var names: [String] { testbeds.map(\.name) }

  package func testbed(named name: String) -> Testbed? { testbeds.first { $0.name == name } }
}

extension LoadedExperiment {
  /// The experiment as it runs on `testbed`: every host with its address there, at every
  /// sweep point. Cell ids and the experiment hash do not change (they ignore addresses).
  package func on(_ testbed: Testbed) -> LoadedExperiment {
    var copy = self
    func relocate(_ experiment: inout Experiment) {
      for index in experiment.hosts.indices {
        experiment.hosts[index].transport = testbed.transport(of: experiment.hosts[index])
      }
    }
    relocate(&copy.experiment)
    for index in copy.points.indices { relocate(&copy.points[index].experiment) }
    return copy
  }
}

extension ExperimentPlan {
  /// The plan as it runs on `testbed`: the same cells and experiment hash, every host
  /// at its address there.
  package func on(_ testbed: Testbed) -> ExperimentPlan {
    var copy = self
    copy.loaded = loaded.on(testbed)
    return copy
  }
}
