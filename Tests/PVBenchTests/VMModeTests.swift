import AgentProtocol
import Controller
import Foundation
import LocalVMs
import Testing
import Workloads

/// The modes a stock kernel has, applied by the real agent inside a real guest kernel (TCG)
/// with two SMT threads per core, once on a cgroup-v1 cpuset hierarchy and once on cgroup v2.
/// One boot per hierarchy serves every check; everything is read back from the kernel's own
/// files by the agent's `facts` and `mode.verify`, never from what pvbench wrote.
@Suite(.serialized, .enabled(if: VMTestSupport.canBoot, "needs qemu-system-x86, a kernel, busybox"))
struct VMModeTests {
  @Test(arguments: ["v1", "v2"])
  func hotplugAndCpusetHoldOnARealKernel(cgroup: String) async throws {
    let folder = try VMTestSupport.temporaryFolder("modes-\(cgroup)")
    defer { VMTestSupport.remove(folder) }
    let guest = try VMTestSupport.bootImage(.pvbench, in: folder).launch(
      "modes-\(cgroup)", vcpus: 4, threadsPerCore: 2, memoryMiB: 512,
      extraKernelArguments: cgroup == "v1" ? "pvbench.cgroup=v1" : "", in: folder)
    defer { guest.shutdown(grace: .zero) }
    let (fd, _) = try guest.waitForAgent(timeout: .seconds(180))
    let client = VMTestSupport.client("modes", of: guest, fd: fd, tail: 30)
    defer { client.close() }
    _ = try await client.handshake(timeout: .seconds(60))
    func request(_ op: String, _ params: JSON = [:]) async throws -> JSON {
      try await client.request(op, params, timeout: .seconds(90))
    }
    #expect(guest.consoleText().contains("mounted proc, sys, dev, cgroup \(cgroup);"))

    let facts = try await request("facts")
    #expect(facts["cgroup_version"]?.stringValue == cgroup)
    #expect(facts["cpus_online"]?.stringValue == "0-3")
    #expect(facts["threads_per_core"] == 2)
    #expect(facts["cores"]?.arrayValue?.compactMap(\.stringValue) == ["0-1", "2-3"])
    let interfaces = facts["interfaces"]?.arrayValue?.compactMap(\.stringValue) ?? []
    #expect(interfaces.contains("hotplug") && interfaces.contains("cpuset"), "\(interfaces)")

    // Burners on every CPU, so evacuation has something to move.
    let stress = StressOptions(
      busyNanoseconds: 600_000_000_000, idleNanoseconds: 1_000_000_000, cycles: 1, workers: 4,
      engine: .builtin)
    _ = try await request("stress.start", ["options": JSON.encode(stress)])
    let evacuation: [String: JSON] = [
      "cpus": "non-entitled", "entitled": 1, "evacuation": true,
      "evacuation_timeout_ms": 20000, "evacuation_window_ms": 250,
    ]

    // Hotplug: the second core (both siblings) goes offline; the kernel's cpu/online says so.
    var params = evacuation
    params["mode"] = "hotplug"
    let hotplug = try await request("mode.apply", .object(params))
    #expect(hotplug["avoided"]?.stringValue == "2-3")
    let hotplugEvacuation = hotplug["evacuation_ms"]?.doubleValue
    #expect(hotplugEvacuation != nil, "\(hotplug)")
    #expect(try await request("facts")["cpus_online"]?.stringValue == "0-1")
    #expect(try await request("mode.verify")["online"]?.stringValue == "0-1")

    // Cpuset: applying it restores hotplug first (every CPU online again), then moves every
    // user task into a cgroup without the second core.
    params["mode"] = "cpuset"
    let cpuset = try await request("mode.apply", .object(params))
    #expect(cpuset["restored_previous"] == true)
    #expect(cpuset["avoided"]?.stringValue == "2-3")
    #expect((cpuset["tasks_moved"]?.intValue ?? 0) >= 2, "\(cpuset)")  // init and the agent
    #expect(cpuset["tasks_unmovable"]?.arrayValue == [])
    let slice = cpuset["cgroup"]?.stringValue ?? ""
    let hierarchy = cgroup == "v1" ? "/sys/fs/cgroup/cpuset/" : "/sys/fs/cgroup/"
    #expect(slice.hasPrefix(hierarchy + "pvbench.slice-"), "\(slice)")
    let cpusetEvacuation = cpuset["evacuation_ms"]?.doubleValue
    #expect(cpusetEvacuation != nil, "\(cpuset)")
    #expect(try await request("facts")["cpus_online"]?.stringValue == "0-3")
    let verified = try await request("mode.verify")
    #expect(verified["effective"]?.stringValue == "0-1", "\(verified)")
    #expect(verified["tasks_outside"] == 0)

    // Restore: the journal is replayed and read back; out-of-box holds again.
    let restored = try await request("mode.restore")
    #expect((restored["undone"]?.intValue ?? 0) >= 3, "\(restored)")
    let outOfBox = try await request("mode.verify")
    #expect(outOfBox["online"]?.stringValue == "0-3")
    print(
      "cgroup \(cgroup): hotplug apply \(hotplug["apply_ms"]?.doubleValue ?? -1) ms, evacuation \(hotplugEvacuation ?? -1) ms; cpuset apply \(cpuset["apply_ms"]?.doubleValue ?? -1) ms, evacuation \(cpusetEvacuation ?? -1) ms, \(cpuset["tasks_moved"]?.intValue ?? -1) tasks moved; restore \(restored["restore_ms"]?.doubleValue ?? -1) ms"
    )
    _ = try? await client.request("stress.stop", timeout: .seconds(30))
  }
}
