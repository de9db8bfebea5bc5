import Experiments
import Foundation
import HostAgent
import LinuxHost
import LocalVMs
import Results
import Testing

@Suite struct VMImageTests {
  @Test func cpioArchiveListsAndExtractsWithTheRealCpio() throws {
    var writer = CPIOArchiveWriter()
    writer.addFile("/opt/lib/a.so", contents: Data("hello".utf8), mode: 0o755)
    writer.addSymlink("bin/sh", target: "/bin/busybox")
    writer.addCharacterDevice("dev/console", major: 5, minor: 1, mode: 0o600)
    let archive = writer.finish()
    let folder = try VMTestSupport.temporaryFolder("cpio")
    defer { VMTestSupport.remove(folder) }
    try archive.write(to: URL(fileURLWithPath: folder + "/a.cpio"))
    let listing = try VMShell.run("/bin/sh", ["-c", "cpio -t < \(folder)/a.cpio"])
    #expect(listing.status == 0)
    #expect(
      String(decoding: listing.stdout, as: UTF8.self)
        == "opt\nopt/lib\nopt/lib/a.so\nbin\nbin/sh\ndev\ndev/console\n")
    let extract = try VMShell.run(
      "/bin/sh",
      [
        "-c",
        "cd \(folder) && mkdir x && cd x && cpio -id --no-absolute-filenames "
          + "opt/lib/a.so bin/sh < ../a.cpio",
      ])
    #expect(extract.status == 0, "\(extract.stderr)")
    #expect(try String(contentsOfFile: folder + "/x/opt/lib/a.so", encoding: .utf8) == "hello")
    #expect(
      try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/x/bin/sh")
        == "/bin/busybox")
    #expect(archive.count % 4 == 0)
  }

  @Test func kernelReleaseComesFromTheBzImageHeader() throws {
    let kernel = try VMTestSupport.kernel()
    let name = (kernel.path as NSString).lastPathComponent
    #expect(GuestKernel.headerRelease(ofKernelAt: kernel.path) == kernel.release)
    #expect(name == "vmlinuz-" + kernel.release)
    #expect(kernel.modulesDirectory == "/lib/modules/" + kernel.release)
  }

  @Test func autoPicksTheNewestReadableKernel() throws {
    let boot = try VMTestSupport.temporaryFolder("boot")
    defer { VMTestSupport.remove(boot) }
    for release in ["5.9.0-1-amd64", "5.10.0-2-amd64", "5.10.0-10-amd64"] {
      try Data("not a bzImage".utf8).write(to: URL(fileURLWithPath: "\(boot)/vmlinuz-\(release)"))
    }
    try Data().write(to: URL(fileURLWithPath: "\(boot)/config-9.9.9"))
    let kernel = try GuestKernel.resolve("auto", bootDirectory: boot, modulesRoot: boot + "/none")
    #expect(kernel.path == boot + "/vmlinuz-5.10.0-10-amd64")
    #expect(kernel.release == "5.10.0-10-amd64")
    #expect(kernel.modulesDirectory == nil)
  }

  @Test func noKernelIsAClearError() throws {
    let boot = try VMTestSupport.temporaryFolder("noboot")
    defer { VMTestSupport.remove(boot) }
    #expect(
      throws: VMError(
        "No readable kernel matches \(boot)/vmlinuz-*. Install one "
          + "('apt-get install linux-image-cloud-amd64') or give a path with --kernel.")
    ) {
      try GuestKernel.resolve("auto", bootDirectory: boot)
    }
    #expect(
      throws: VMError(
        "The kernel '\(boot)/missing' does not exist or is not readable. Give a bzImage path "
          + "or 'auto'.")
    ) {
      try GuestKernel.resolve(boot + "/missing")
    }
  }

  @Test(arguments: [
    ("kernel/drivers/char/virtio_console.ko", "virtio_console"),
    ("kernel/drivers/char/hw_random/virtio-rng.ko.xz", "virtio_rng"),
    ("kernel/drivers/virtio/virtio.ko.zst", "virtio"),
  ])
  func moduleNames(file: String, name: String) {
    #expect(GuestImageBuilder.moduleName(ofFile: file) == name)
  }

  @Test func imageHoldsBusyboxPvbenchLibrariesModulesAndInitAndIsCached() throws {
    let cache = try VMTestSupport.temporaryFolder("cache")
    defer { VMTestSupport.remove(cache) }
    let kernel = try VMTestSupport.kernel()
    let builder = GuestImageBuilder(
      kernel: kernel, binaryPath: VMTestSupport.pvbenchBinary, cacheDirectory: cache)
    let first = try builder.build()
    #expect(!first.cached)
    #expect(first.modules == GuestImageBuilder.channelModules)
    #expect(first.skippedModules.isEmpty)
    let listing = try VMShell.run("/bin/sh", ["-c", "cpio -t < '\(first.path)'"])
    let names = Set(String(decoding: listing.stdout, as: UTF8.self).split(separator: "\n"))
    var expected = [
      "init", "bin/busybox", "bin/pvbench", "bin/sh", "sbin/insmod", "dev/console",
      "lib64/ld-linux-x86-64.so.2",
    ]
    expected += GuestImageBuilder.channelModules.map { "lib/modules/pvbench/\($0).ko" }
    for library in try GuestImageBuilder.sharedLibraries(of: VMTestSupport.pvbenchBinary) {
      expected.append(String(library.dropFirst()))
    }
    for name in expected {
      #expect(names.contains(Substring(name)), "missing \(name)")
    }
    let second = try builder.build()
    #expect(second.cached)
    #expect(second.path == first.path)
    #expect(second.hash == first.hash)
    #expect(second.buildSeconds < 5)
  }

  @Test func kernelWithoutModulesSkipsThemAndInitFallsBackToTtyS1() throws {
    let cache = try VMTestSupport.temporaryFolder("nomod")
    defer { VMTestSupport.remove(cache) }
    var kernel = try VMTestSupport.kernel()
    kernel.modulesDirectory = nil
    let plan = try GuestImageBuilder(
      kernel: kernel, binaryPath: VMTestSupport.pvbenchBinary, cacheDirectory: cache
    ).makePlan()
    #expect(plan.modules.isEmpty)
    #expect(plan.skippedModules == GuestImageBuilder.channelModules)
    #expect(plan.initScript.contains("port=/dev/ttyS1"))
  }

  @Test func missingBinaryIsAClearError() throws {
    let kernel = try VMTestSupport.kernel()
    #expect(
      throws: VMError("The pvbench binary '/nonexistent/pvbench' is not readable; build it first.")
    ) {
      try GuestImageBuilder(kernel: kernel, binaryPath: "/nonexistent/pvbench").makePlan()
    }
  }
}
