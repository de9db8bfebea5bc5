/// What a reader of a pasted table needs to reproduce the run, beyond the hosts.
public struct EnvironmentRecord: Codable, Sendable, Equatable {
  /// The commit pvbench was built from, or nil when it is unknown (see
  /// `docs/results-format.md`).
  public var pvbenchCommit: String?
  /// The machine the controller ran on — the hypervisor host of qemu guests: its kernel
  /// release and CPU model.
  public var controllerKernel: String
  public var controllerCPUModel: String
  /// qemu hosts only: the accelerator the guests ran under (`KVM` or `TCG`) and the
  /// first line of `qemu-system-x86_64 --version`.
  public var accelerator: String?
  public var qemuVersion: String?
  /// qemu hosts only: how the host pool dispatched the guests' vCPUs (`dispatch`,
  /// `entitled` or `fair`, `pool.model`); nil in runs made before the model existed (they
  /// were `fair`).
  public var poolModel: String?
  /// qemu hosts only: the pool's window and each guest's share; nil in runs made before
  /// `pool.model: dispatch` existed.
  public var pool: PoolRecord?

  public init(
    pvbenchCommit: String?, controllerKernel: String, controllerCPUModel: String,
    accelerator: String? = nil, qemuVersion: String? = nil, poolModel: String? = nil,
    pool: PoolRecord? = nil
  ) {
    self.poolModel = poolModel
    self.pool = pool
    self.pvbenchCommit = pvbenchCommit
    self.controllerKernel = controllerKernel
    self.controllerCPUModel = controllerCPUModel
    self.accelerator = accelerator
    self.qemuVersion = qemuVersion
  }
}
