/// The machine a local qemu guest emulates, named as `uname -m` names it inside the guest.
///
/// `x86_64` boots QEMU's q35 machine (KVM when usable) with the Swift pvbench as its
/// agent; `ppc64le` boots QEMU's pseries machine under TCG with Debian's ppc64el kernel
/// and the portable agent, standing in for a PowerVM LPAR.
public enum GuestArchitecture: String, Codable, Sendable, CaseIterable {
  case x86_64
  case ppc64le
}
