import Experiments
import LocalVMs
import Results
import Vocabulary

extension PoolRecord {
  /// The pool an experiment's qemu guests run in, as the manifest records it; nil when the
  /// experiment boots no guest.
  /// - Parameter onlineCPUs: the host CPUs a pool of `host_cpus: all` has.
  package init?(_ experiment: Experiment, onlineCPUs: [Int32] = HostPool.onlineCPUs()) {
    guard experiment.hasGuests else { return nil }
    let hostCPUs = experiment.poolCPUCount(onlineCPUs: onlineCPUs.count)
    let claims = experiment.poolClaims
    let dispatch = experiment.poolModel == .dispatch
    let shares = PoolClaim.dispatchCPUs(claims, poolCPUs: hostCPUs)
    self.init(
      model: experiment.poolModel.rawValue,
      windowMicroseconds: dispatch ? Int(experiment.poolWindow.nanoseconds / 1000) : nil,
      hostCPUs: hostCPUs,
      guests: claims.map { claim in
        PoolRecord.Guest(
          name: claim.guest, entitled: claim.entitled, capped: claim.capped,
          uncappedWeight: claim.capped ? nil : claim.uncappedWeight,
          dispatchCPUs: dispatch ? shares[claim.guest] : nil)
      })
  }
}
