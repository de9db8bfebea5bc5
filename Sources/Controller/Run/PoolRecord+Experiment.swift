import Experiments
import LocalVMs
import Results

extension PoolRecord {
  /// The pool an experiment's qemu guests run in, as the manifest records it; nil when the
  /// experiment boots no guest.
  /// - Parameter onlineCPUs: the host CPUs a pool of `host_cpus: all` has.
  package init?(_ experiment: Experiment, onlineCPUs: [Int32] = HostPool.onlineCPUs()) {
    guard experiment.hasGuests else { return nil }
    let hostCPUs: Int
    switch experiment.pool?.hostCPUs ?? .all {
    case .list(let cpus): hostCPUs = cpus.count
    default: hostCPUs = onlineCPUs.count
    }
    let names = experiment.roleHosts.map(\.name)
    let members = experiment.hosts.compactMap { host -> HostPool.Member? in
      guard names.contains(host.name), case .qemu(let qemu) = host.transport else { return nil }
      return HostPool.Member(
        guest: host.name, pid: 0, entitledCPUs: host.entitlement ?? Double(qemu.vcpus),
        capped: qemu.capped, uncappedWeight: host.effectiveUncappedWeight)
    }
    let dispatch = experiment.poolModel == .dispatch
    let shares = HostPool.dispatchCPUs(members: members, poolCPUs: hostCPUs)
    self.init(
      model: experiment.poolModel.rawValue,
      windowMicroseconds: dispatch ? Int(experiment.poolWindow.nanoseconds / 1000) : nil,
      hostCPUs: hostCPUs,
      guests: members.map { member in
        PoolRecord.Guest(
          name: member.guest, entitled: member.entitledCPUs, capped: member.capped,
          uncappedWeight: member.capped ? nil : member.uncappedWeight,
          dispatchCPUs: dispatch ? shares[member.guest] : nil)
      })
  }
}
