import ArgumentParser

extension PVBench {
  struct VM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "vm",
      abstract: "Build the guest image and boot or inspect the local QEMU guests of an experiment.",
      discussion: """
        Builds an initramfs with busybox and this pvbench binary and boots it under KVM \
        or TCG.
        """
    )

    func run() async throws {
      try notBuiltYet("vm", issue: 7)
    }
  }
}
