import Foundation
import HostAgent
import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// An errno as a failure value (`kstrtouint`'s).
package struct KernelErrno: Error, Equatable {
  package var code: Int32
}

/// Models the kernel's answers on a fake sysfs/procfs/cgroup tree (tests and `--root`).
///
/// Only what pvbench relies on is modelled, each with the errno the kernel returns.
package struct FakeKernelSysfsWriter: SysfsWriter {
  package let paths: HostPaths

  private var cpuDir: String { HostPaths.cpuDirectory }

  package func write(_ value: String, to path: String) throws(KernelError) {
    let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
    let action = "write '\(value)'"
    func refuse(_ code: Int32) -> KernelError {
      KernelError(errno: code, path: path, action: action)
    }
    let name = (path as NSString).lastPathComponent
    let parent = (path as NSString).deletingLastPathComponent
    if path.hasPrefix(cpuDir + "/cpu") && name == "online" && parent != cpuDir {
      guard paths.exists(path) else { throw refuse(ENOENT) }
      guard text == "0" || text == "1" else { throw refuse(EINVAL) }
      let cpu = Int((parent as NSString).lastPathComponent.dropFirst(3)) ?? -1
      let online = onlineCPUs()
      if text == "0" && online.contains(cpu) && online.count == 1 { throw refuse(EBUSY) }
      try store(text + "\n", path)
      let present = paths.readTrimmed("\(cpuDir)/present").flatMap(CPUSet.cpus(parsing:)) ?? []
      let nowOnline = present.filter { cpu in
        paths.readTrimmed(HostPaths.cpuOnline(cpu)).map { $0 == "1" } ?? true
      }
      try store(CPUSet.format(nowOnline) + "\n", "\(cpuDir)/online")
      return
    }
    // A sysfs attribute without a store method is 0444, and kernfs refuses to open it for
    // writing (EACCES) whoever asks: the series' paravirt file without its debug patch,
    // and `preferred`.
    if paths.exists(path), !isWritable(path) { throw refuse(EACCES) }
    if path == HostPaths.paravirt {
      // paravirt_store of "[PATCH 16/17] sysfs: Provide write method for paravirt": a
      // cpulist_parse failure (EINVAL; ERANGE past the last possible CPU), the online mask
      // itself, or more CPUs than are online, is EINVAL. Offline CPUs may be named.
      guard let cpus = CPUSet.cpus(parsing: text) else { throw refuse(EINVAL) }
      let possible = paths.readTrimmed("\(cpuDir)/possible").flatMap(CPUSet.cpus(parsing:)) ?? []
      if let last = cpus.max(), last >= possible.count { throw refuse(ERANGE) }
      let online = onlineCPUs()
      if Set(cpus) == Set(online) || cpus.count > online.count { throw refuse(EINVAL) }
      try store(CPUSet.format(cpus) + "\n", path)
      return
    }
    if path == HostPaths.vpManualHint {
      let possible = paths.readTrimmed("\(cpuDir)/possible").flatMap(CPUSet.cpus(parsing:)) ?? []
      guard let first = Int(text), first >= 1, first <= possible.count else {
        throw refuse(EINVAL)
      }
      try store("\(first)\n", path)
      return
    }
    if path.hasPrefix(HostPaths.cgroupRoot + "/") {
      try writeCgroup(text, name: name, directory: parent, refuse: refuse)
      return
    }
    guard paths.exists(path) else { throw refuse(ENOENT) }
    try store(value, path)
  }

  private func writeCgroup(
    _ text: String, name: String, directory: String, refuse: (Int32) -> KernelError
  ) throws(KernelError) {
    switch name {
    case "cgroup.procs", "tasks":
      guard let pid = Int(text) else { throw refuse(EINVAL) }
      guard paths.exists("/proc/\(pid)") else { throw refuse(ESRCH) }
      guard paths.exists("\(directory)/cgroup.procs"),
        let hierarchy = CpusetHierarchy(containing: directory)
      else { throw refuse(ENOENT) }
      // cgroup-v1/cpusets.rst 1.3: a v1 cpuset takes no task until it has CPUs and nodes.
      if hierarchy.version == .v1
        && ((paths.readTrimmed("\(directory)/cpuset.cpus") ?? "").isEmpty
          || (paths.readTrimmed("\(directory)/cpuset.mems") ?? "").isEmpty)
      {
        throw refuse(ENOSPC)
      }
      for procs in procsFiles(under: hierarchy.root) {
        let pids = (paths.read(procs) ?? "").split(separator: "\n").filter { $0 != "\(pid)" }
        try store(pids.map { $0 + "\n" }.joined(), procs)
        let folder = (procs as NSString).deletingLastPathComponent
        if hierarchy.version == .v1 {
          try store(pids.map { $0 + "\n" }.joined(), "\(folder)/tasks")
        }
      }
      // Kept in pid order, so a restored tree reads the same as before.
      let here =
        ((paths.read("\(directory)/cgroup.procs") ?? "").split(separator: "\n")
        .compactMap { Int($0) } + [pid]).sorted()
      try store(here.map { "\($0)\n" }.joined(), "\(directory)/cgroup.procs")
      if hierarchy.version == .v1 {
        try store(here.map { "\($0)\n" }.joined(), "\(directory)/tasks")
      }
      try store(
        (hierarchy.version == .v1 ? "5:cpuset:" : "0::") + hierarchy.relative(directory) + "\n",
        "/proc/\(pid)/cgroup")
    case "cpuset.cpus", "cpuset.mems":
      guard let values = CPUSet.cpus(parsing: text),
        let hierarchy = CpusetHierarchy(containing: directory)
      else { throw refuse(EINVAL) }
      let parent = (directory as NSString).deletingLastPathComponent
      let effectiveName =
        name == "cpuset.cpus" ? hierarchy.effectiveCPUsFile : hierarchy.effectiveMemsFile
      let parentEffective =
        paths.readTrimmed("\(parent)/\(effectiveName)").flatMap(CPUSet.cpus(parsing:))
        ?? paths.readTrimmed("\(parent)/\(name)").flatMap(CPUSet.cpus(parsing:)) ?? []
      // v1 (cpusets.rst 1.4): a cpuset's CPUs and nodes are a subset of its parent's, and
      // its effective set is exactly what was written. v2 (cgroup-v2.rst): any value is
      // accepted, the effective set is its intersection with the parent's, or the parent's
      // when that is empty.
      let effective: [Int]
      if hierarchy.version == .v1 {
        if !Set(values).isSubset(of: parentEffective) { throw refuse(EINVAL) }
        effective = values
      } else {
        let within = values.filter(parentEffective.contains)
        effective = within.isEmpty ? parentEffective : within
      }
      try store(CPUSet.format(values) + "\n", "\(directory)/\(name)")
      try store(CPUSet.format(effective) + "\n", "\(directory)/\(effectiveName)")
    case "cgroup.subtree_control":
      var enabled = (paths.read("\(directory)/cgroup.subtree_control") ?? "")
        .split(whereSeparator: \.isWhitespace).map(String.init)
      let available = (paths.read("\(directory)/cgroup.controllers") ?? "")
        .split(whereSeparator: \.isWhitespace).map(String.init)
      for token in text.split(whereSeparator: \.isWhitespace) {
        let controller = String(token.dropFirst())
        guard available.contains(controller) else { throw refuse(ENOENT) }
        if token.hasPrefix("+") {
          if !enabled.contains(controller) { enabled.append(controller) }
        } else if token.hasPrefix("-") {
          enabled.removeAll { $0 == controller }
        } else {
          throw refuse(EINVAL)
        }
      }
      try store(enabled.joined(separator: " ") + "\n", "\(directory)/cgroup.subtree_control")
    default:
      guard paths.exists("\(directory)/\(name)") else { throw refuse(ENOENT) }
      try store(text + "\n", "\(directory)/\(name)")
    }
  }

  package func makeDirectory(_ path: String) throws(KernelError) {
    let fileManager = FileManager.default
    let parent = (path as NSString).deletingLastPathComponent
    guard paths.exists(parent) else {
      throw KernelError(errno: ENOENT, path: path, action: "mkdir")
    }
    if paths.exists(path) { return }
    do {
      try fileManager.createDirectory(
        atPath: paths.resolve(path), withIntermediateDirectories: false)
    } catch {
      throw KernelError(errno: EACCES, path: path, action: "mkdir")
    }
    guard let hierarchy = CpusetHierarchy(containing: path) else { return }
    try store("", "\(path)/cgroup.procs")
    try store("\n", "\(path)/cpuset.cpus")
    try store("\n", "\(path)/cpuset.mems")
    if hierarchy.version == .v1 {
      // A new v1 cpuset is empty (unless cgroup.clone_children, which pvbench never sets).
      try store("", "\(path)/tasks")
      try store("\n", "\(path)/\(hierarchy.effectiveCPUsFile)")
      try store("\n", "\(path)/\(hierarchy.effectiveMemsFile)")
    } else {
      let subtree = paths.read("\(parent)/cgroup.subtree_control") ?? ""
      try store(subtree, "\(path)/cgroup.controllers")
      try store("\n", "\(path)/cgroup.subtree_control")
      for file in [hierarchy.effectiveCPUsFile, hierarchy.effectiveMemsFile] {
        try store(paths.read("\(parent)/\(file)") ?? "\n", "\(path)/\(file)")
      }
    }
  }

  package func removeDirectory(_ path: String) throws(KernelError) {
    guard paths.exists(path) else {
      throw KernelError(errno: ENOENT, path: path, action: "rmdir")
    }
    if !(paths.readTrimmed("\(path)/cgroup.procs") ?? "").isEmpty {
      throw KernelError(errno: EBUSY, path: path, action: "rmdir")
    }
    if paths.list(path).contains(where: { paths.exists("\(path)/\($0)/cgroup.procs") }) {
      throw KernelError(errno: EBUSY, path: path, action: "rmdir")
    }
    do { try FileManager.default.removeItem(atPath: paths.resolve(path)) } catch {
      throw KernelError(errno: EIO, path: path, action: "rmdir")
    }
  }

  package func loadModule(_ name: String, parameters: [(String, String)]) throws(KernelError) {
    let release = paths.readTrimmed("/proc/sys/kernel/osrelease") ?? ""
    guard moduleAvailable(name, kernelRelease: release) else {
      throw KernelError(
        errno: ENOENT, path: "/lib/modules/\(release)", action: "modprobe \(name)")
    }
    if moduleLoaded(name) {
      throw KernelError(errno: EEXIST, path: "/sys/module/\(name)", action: "modprobe \(name)")
    }
    if name == StealGovernor.moduleName {
      try loadStealGovernor(parameters: parameters)
      return
    }
    do {
      try FileManager.default.createDirectory(
        atPath: paths.resolve("/sys/module/\(name)/parameters"), withIntermediateDirectories: true
      )
    } catch {
      throw KernelError(errno: EIO, path: "/sys/module/\(name)", action: "modprobe \(name)")
    }
    for (key, value) in parameters {
      try store(value + "\n", "/sys/module/\(name)/parameters/\(key)")
    }
    // The governor starts with every online CPU preferred; the file is read-only.
    try store(CPUSet.format(onlineCPUs()) + "\n", HostPaths.preferred)
    chmod(paths.resolve(HostPaths.preferred), 0o444)
  }

  /// Loads `steal_governor` as the driver published in tip does
  /// (`drivers/virt/steal_governor.c` at 27d47ebce4d6490ce093031a48cc2d81bf9997a3).
  ///
  /// The parameters are set in the order given, each through its setter: every value is
  /// parsed as `kstrtouint` with base 0 does (EINVAL for a non-number or a sign, ERANGE past
  /// 2^32 − 1); `param_set_interval_ms` refuses outside 100–100000 and
  /// `param_set_high_threshold` at 10000 or above (EINVAL); `low_threshold` is a plain
  /// `uint`. A parameter the module does not have is ignored, as the module loader ignores
  /// unknown parameters with a warning. Then `steal_governor_init` fails the load with
  /// EINVAL when low is not below high. Loaded, the three parameters read back in decimal,
  /// defaults included, read-only (0444).
  private func loadStealGovernor(parameters: [(String, String)]) throws(KernelError) {
    let name = StealGovernor.moduleName
    func refuse(_ code: Int32) -> KernelError {
      KernelError(errno: code, path: "/sys/module/\(name)/parameters", action: "modprobe \(name)")
    }
    var values: [String: UInt32] = [
      "interval_ms": 1000, "high_threshold": 500, "low_threshold": 200,
    ]
    for (key, text) in parameters where values[key] != nil {
      let value: UInt32
      switch Self.kstrtouint(text) {
      case .success(let parsed): value = parsed
      case .failure(let error): throw refuse(error.code)
      }
      if key == "interval_ms" && !(100...100_000).contains(value) { throw refuse(EINVAL) }
      if key == "high_threshold" && value >= 10_000 { throw refuse(EINVAL) }
      values[key] = value
    }
    if values["low_threshold"]! >= values["high_threshold"]! { throw refuse(EINVAL) }
    let directory = "/sys/module/\(name)/parameters"
    do {
      try FileManager.default.createDirectory(
        atPath: paths.resolve(directory), withIntermediateDirectories: true)
    } catch {
      throw KernelError(errno: EIO, path: "/sys/module/\(name)", action: "modprobe \(name)")
    }
    for (key, value) in values {
      try store("\(value)\n", "\(directory)/\(key)")
      chmod(paths.resolve("\(directory)/\(key)"), 0o444)
    }
    // Every active (here: online) CPU starts preferred; the file is read-only.
    try store(CPUSet.format(onlineCPUs()) + "\n", HostPaths.preferred)
    chmod(paths.resolve(HostPaths.preferred), 0o444)
  }

  /// `kstrtouint(text, 0, …)`: an optional `+`, then hexadecimal after `0x`, octal after a
  /// leading `0`, else decimal; one trailing newline allowed. The errno on failure.
  package static func kstrtouint(_ text: String) -> Result<UInt32, KernelErrno> {
    var digits = Substring(text)
    if digits.hasSuffix("\n") { digits = digits.dropLast() }
    if digits.hasPrefix("+") { digits = digits.dropFirst() }
    var radix = 10
    if digits.lowercased().hasPrefix("0x") {
      radix = 16
      digits = digits.dropFirst(2)
    } else if digits.hasPrefix("0") && digits.count > 1 {
      radix = 8
      digits = digits.dropFirst()
    }
    guard !digits.isEmpty,
      digits.allSatisfy({ $0.isHexDigit && Int(String($0), radix: 16)! < radix })
    else { return .failure(KernelErrno(code: EINVAL)) }
    guard let wide = UInt64(digits, radix: radix), let value = UInt32(exactly: wide) else {
      return .failure(KernelErrno(code: ERANGE))
    }
    return .success(value)
  }

  package func unloadModule(_ name: String) throws(KernelError) {
    guard moduleLoaded(name) else {
      throw KernelError(errno: ENOENT, path: "/sys/module/\(name)", action: "rmmod")
    }
    try? FileManager.default.removeItem(atPath: paths.resolve("/sys/module/\(name)"))
    try? FileManager.default.removeItem(atPath: paths.resolve(HostPaths.preferred))
  }

  package func moduleAvailable(_ name: String, kernelRelease: String) -> Bool {
    let directory = "/lib/modules/\(kernelRelease)"
    guard
      let enumerator = FileManager.default.enumerator(atPath: paths.resolve(directory))
    else { return false }
    while let file = enumerator.nextObject() as? String {
      if (file as NSString).lastPathComponent.hasPrefix(name + ".ko") { return true }
    }
    return false
  }

  package func moduleLoaded(_ name: String) -> Bool { paths.exists("/sys/module/\(name)") }

  /// Whether the fake file has a write bit, as a sysfs attribute with a store method has.
  private func isWritable(_ path: String) -> Bool {
    var info = stat()
    guard stat(paths.resolve(path), &info) == 0 else { return true }
    return info.st_mode & 0o222 != 0
  }

  private func onlineCPUs() -> [Int] {
    paths.readTrimmed("\(cpuDir)/online").flatMap(CPUSet.cpus(parsing:)) ?? []
  }

  private func procsFiles(under hierarchy: String) -> [String] {
    var result: [String] = []
    guard let enumerator = FileManager.default.enumerator(atPath: paths.resolve(hierarchy))
    else { return result }
    while let file = enumerator.nextObject() as? String {
      if (file as NSString).lastPathComponent == "cgroup.procs" {
        result.append(hierarchy + "/" + file)
      }
    }
    return result
  }

  private func store(_ contents: String, _ path: String) throws(KernelError) {
    do {
      try Data(contents.utf8).write(to: URL(fileURLWithPath: paths.resolve(path)))
    } catch {
      throw KernelError(errno: EIO, path: path, action: "write")
    }
  }

  /// Where the fake kernel keeps the workload's threads' `sched` files: a fake tree cannot
  /// know the real thread ids, so thread number `index` (message threads first, then
  /// workers) reads the `index`-th folder, in numeric order, of `proc/self/task` under the
  /// root (`proc/self/task/<n>/sched`, written by the test); a thread past the last folder
  /// has no file, as a thread that is gone.
  package static func threadSchedFile(_ paths: HostPaths) -> @Sendable (Int, Int32) -> String {
    { index, tid in
      let folder = "/proc/self/task"
      let entries = paths.list(folder).compactMap { Int($0) }.sorted()
      guard index < entries.count else { return paths.resolve("\(folder)/none-\(tid)/sched") }
      return paths.resolve("\(folder)/\(entries[index])/sched")
    }
  }

  /// Memberwise.
  package init(
    paths: HostPaths
  ) {
    self.paths = paths
  }
}
