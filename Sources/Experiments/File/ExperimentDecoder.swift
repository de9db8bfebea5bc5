import LinuxHost
import Vocabulary
import Workloads
import Yams

/// Turns the YAML node tree of an experiment file into an `Experiment`, checking
/// every key, type, range and cross-reference, and reporting all problems found.
package struct ExperimentDecoder {
  package let sink: DiagnosticSink
  /// CPUs of the machine pvbench runs on: local hosts and the qemu pool live there.
  package let localCPUs: CPUSet
  /// The CPUs present under a `local` host's `root:`.
  package let presentCPUs: (_ root: String) -> CPUSet

  package static let topKeys = [
    "name", "description", "hosts", "pool", "measure", "noise", "modes", "trigger", "settle",
    "sweep", "repeat", "expect", "report", "max_consecutive_failures", "testbeds",
  ]

  /// Decodes the whole file; nil when any problem was reported.
  package func decode(_ root: Node) -> Experiment? {
    let top = NodeReader(node: root, path: [], sink: sink)
    guard let map = top.mapping(allowed: Self.topKeys) else { return nil }
    let before = sink.diagnostics.count

    let name = map.required("name")?.string()
    if let name, !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
      map.optional("name")?.error(
        "use letters, digits, '-', '_' and '.' only (it names the results folder), got '\(name)'")
    }
    let description = map.optional("description")?.scalarText("a string")
    let hosts = map.required("hosts").map(decodeHosts) ?? []
    let pool = map.optional("pool").flatMap(decodePool)
    let measure = map.required("measure").flatMap { decodeMeasure($0, hosts: hosts) }
    let noise = map.optional("noise").flatMap { decodeNoise($0, hosts: hosts) }
    let modes = map.required("modes").map { decodeModes($0, hosts: hosts) } ?? []
    let trigger = map.optional("trigger").map { $0.choice(Trigger.self) } ?? .followNoise
    let settle = map.optional("settle").map { $0.duration() } ?? DurationValue(seconds: 1)
    let sweep = map.optional("sweep").map(decodeSweep) ?? []
    let repetitions = map.optional("repeat").map { $0.int(in: 1...1000) } ?? 1
    let expect = map.optional("expect").flatMap { decodeExpect($0, modes: modes) }
    let report =
      map.optional("report").flatMap(decodeReport)
      ?? ReportSpec(percentiles: [50, 90, 99, 99.9], phase: .busy)
    let maxFailures = map.optional("max_consecutive_failures").map { $0.int(in: 1...1000) } ?? 3

    if let measure, let noise, noise.hosts.contains(measure.host) {
      map.optional("noise")?.error(
        "the noise host must differ from the measure host '\(measure.host)'")
    }
    if trigger == .followNoise, noise == nil, map.has("modes"), map.optional("noise") == nil {
      top.error("trigger 'follow-noise' needs a 'noise' section (or use 'trigger: static')")
    }
    if let measure, let measureHost = hosts.first(where: { $0.name == measure.host }) {
      checkModeCPUs(modes, on: measureHost, reader: map.optional("modes"))
    }
    checkPool(pool, hosts: hosts, map: map)
    if let measure, let noise, let settle {
      checkSchedule(
        noise: noise, settle: settle, interval: measure.schbench.interval,
        reader: map.optional("noise"))
    }

    guard sink.diagnostics.count == before, let name, let measure, let trigger, let settle,
      let repetitions, let maxFailures, !hosts.isEmpty, !modes.isEmpty
    else { return nil }
    return Experiment(
      name: name, description: description, hosts: hosts, pool: pool, measure: measure,
      noise: noise, modes: modes, trigger: trigger, settle: settle, sweep: sweep,
      repetitions: repetitions, expect: expect, report: report,
      maxConsecutiveFailures: maxFailures)
  }

  /// Fewest clean intervals per phase and cycle below which the schedule is warned about.
  package static let minimumCleanIntervals = 3

  /// Refuses a busy or idle phase in which no interval can be tagged with it, and warns
  /// when fewer than `minimumCleanIntervals` clean intervals per phase and cycle remain.
  ///
  /// An interval is clean when it starts at least `settle` after an edge and ends by the
  /// next edge (`PhaseTagger`). Intervals are not aligned with edges, so a phase of length
  /// L holds at least ⌊(L − settle) / interval⌋ − 1 clean intervals, and none at all when
  /// L ≤ settle + interval.
  func checkSchedule(
    noise: NoiseSpec, settle: DurationValue, interval: DurationValue, reader: NodeReader?
  ) {
    guard interval.nanoseconds > 0,
      let stress = reader?.mapping(allowed: ["host", "stress"])?.optional("stress")?
        .mapping(allowed: ["busy", "idle", "workers", "engine"])
    else { return }
    for (name, length) in [("busy", noise.stress.busy), ("idle", noise.stress.idle)] {
      guard let node = stress.optional(name) else { continue }
      let article = name == "idle" ? "an" : "a"
      let window = settle.nanoseconds + interval.nanoseconds
      if length.nanoseconds <= window {
        node.error(
          "no interval can be tagged \(name): \(article) \(name) phase of \(length) is not longer than "
            + "'settle' (\(settle)) plus 'measure.schbench.interval' (\(interval)), so every "
            + "interval lies within the settle window of an edge; make it longer than "
            + "\(DurationValue(nanoseconds: window)) or shorten 'settle'")
        continue
      }
      let clean = (length.nanoseconds - settle.nanoseconds) / interval.nanoseconds - 1
      if clean < Self.minimumCleanIntervals {
        node.warning(
          "\(article) \(name) phase of \(length) leaves as few as \(clean) clean "
            + "interval\(clean == 1 ? "" : "s") of \(interval) per cycle after the \(settle) "
            + "settle window (at least \(Self.minimumCleanIntervals) give stable percentiles)")
      }
    }
  }

  // MARK: Hosts

  package func decodeHosts(_ reader: NodeReader) -> [HostSpec] {
    guard let entries = reader.anyMapping() else { return [] }
    if entries.isEmpty { reader.error("name at least one host") }
    return entries.compactMap { name, _, value in decodeHost(name: name, value) }
  }

  package func decodeHost(name: String, _ reader: NodeReader) -> HostSpec? {
    guard
      let map = reader.mapping(allowed: ["local", "ssh", "qemu", "entitled", "uncapped_weight"])
    else {
      return nil
    }
    let kinds = ["local", "ssh", "qemu"].filter(map.has)
    guard kinds.count == 1 else {
      reader.error(
        kinds.isEmpty
          ? "say how to reach the host: one of 'local', 'ssh' or 'qemu'"
          : "choose one of \(NodeReader.list(kinds)), not several")
      return nil
    }
    let transport: HostTransport?
    switch kinds[0] {
    case "local":
      let value = map.optional("local")!
      var root: String?
      if !value.isNull, let local = value.mapping(allowed: ["root"]) {
        root = local.optional("root")?.string()
      }
      transport = .local(root: root)
    case "ssh":
      transport = map.optional("ssh").flatMap(decodeSSH).map(HostTransport.ssh)
    default:
      transport = map.optional("qemu").flatMap(decodeQEMU).map(HostTransport.qemu)
    }
    let entitledReader = map.optional("entitled")
    // Whole cores, or a fraction as PowerVM's processing units (0.05 granularity).
    var entitled: Int?
    var entitledUnits: Double?
    if let entitledReader, let text = entitledReader.scalarText("a number of cores") {
      if Int(text) != nil {
        entitled = entitledReader.int(in: 1...4096)
      } else if let units = entitledReader.double(in: 0.05...4096) {
        entitled = Int(units.rounded(.up))
        entitledUnits = units
      }
    }
    // PowerVM's uncapped weight: an integer 0-255; only the local pool reads it.
    let weightReader = map.optional("uncapped_weight")
    let uncappedWeight = weightReader?.int(in: 0...255)
    guard let transport else { return nil }
    if let weightReader, uncappedWeight != nil {
      if case .qemu(let qemu) = transport {
        if qemu.capped {
          weightReader.error(
            "a capped guest takes no spare capacity, so it has no uncapped weight; "
              + "remove 'capped: true' or this key")
        }
      } else {
        weightReader.error(
          "only qemu guests share the local pool; the hypervisor of a \(transport.kind) host "
            + "sets its uncapped weight")
      }
    }
    if let entitled, case .qemu(let qemu) = transport {
      let cores = qemu.vcpus / qemu.threadsPerCore
      if entitled > cores {
        entitledReader?.error(
          "\(entitled) entitled cores exceed the host's \(cores) cores (\(qemu.vcpus) vCPUs)")
      }
    }
    if let entitled, case .local = transport {
      let cores = localCPUs.count
      if entitled > cores {
        entitledReader?.error(
          "\(entitled) entitled cores exceed this machine's \(cores) CPUs")
      }
    }
    return HostSpec(
      name: name, transport: transport, entitled: entitled, entitledUnits: entitledUnits,
      uncappedWeight: uncappedWeight)
  }

  package func decodeSSH(_ reader: NodeReader) -> SSHHostSpec? {
    guard let map = reader.mapping(allowed: ["host", "user", "port", "pvbench"]) else {
      return nil
    }
    let host = map.required("host")?.string()
    let user = map.optional("user")?.string()
    let port = map.optional("port")?.int(in: 1...65535)
    let pvbench = map.optional("pvbench")?.string()
    guard let host else { return nil }
    return SSHHostSpec(host: host, user: user, port: port, pvbench: pvbench)
  }

  package func decodeQEMU(_ reader: NodeReader) -> QEMUHostSpec? {
    guard
      let map = reader.mapping(allowed: [
        "vcpus", "threads_per_core", "memory", "kernel", "append", "capped", "arch",
      ])
    else { return nil }
    let architecture = map.optional("arch").map { $0.choice(GuestArchitecture.self) } ?? .x86_64
    let vcpus = map.required("vcpus")?.int(in: 1...64)
    let threads = map.optional("threads_per_core").map { $0.int(in: 1...8) } ?? 1
    let memory = map.optional("memory").map { $0.size() } ?? ByteSize(bytes: 512 << 20)
    let kernel = map.optional("kernel").map { $0.string() } ?? "auto"
    let capped = map.optional("capped").map { $0.bool() } ?? false
    var append: String?
    if let node = map.optional("append") {
      append = node.scalarText("kernel command line words")?.trimmingWhitespace()
      if let text = append, text.contains(where: { $0 == "\n" || $0 == "\"" }) {
        node.error("kernel command line words go on one line, without quotes, got '\(text)'")
      }
      if append?.isEmpty == true { append = nil }
    }
    if let memory, memory.bytes < 128 << 20 {
      map.optional("memory")?.error("a guest needs at least 128M, got '\(memory)'")
    }
    if let vcpus, let threads, vcpus % threads != 0 {
      map.optional("threads_per_core")?.error(
        "\(vcpus) vCPUs do not split into cores of \(threads) threads")
    }
    // QEMU's TCG runs one thread per core on a pseries machine ("TCG cannot support more
    // than 1 thread/core on a pseries machine"), and a pseries guest is always TCG here.
    if architecture == .ppc64le, let threads, threads > 1 {
      map.optional("threads_per_core")?.error(
        "a ppc64le (pseries) guest runs under TCG, which gives it 1 thread per core, got \(threads)"
      )
    }
    guard let vcpus, let threads, let memory, let kernel, let capped, let architecture else {
      return nil
    }
    return QEMUHostSpec(
      vcpus: vcpus, threadsPerCore: threads, memory: memory, kernel: kernel, capped: capped,
      append: append, architecture: architecture)
  }

  package func decodePool(_ reader: NodeReader) -> PoolSpec? {
    guard let map = reader.mapping(allowed: ["host_cpus", "model", "window"]) else { return nil }
    var model: PoolModel? = .standard
    if let node = map.optional("model") { model = node.choice(PoolModel.self) }
    var window: DurationValue? = PoolSpec.defaultWindow
    if let node = map.optional("window") {
      window = node.duration(atLeast: PoolSpec.windowRange.lowerBound)
      if let value = window {
        if value > PoolSpec.windowRange.upperBound {
          node.error("must be at most 1s (the longest CFS period), got '\(value)'")
          window = nil
        } else if value.nanoseconds % 1000 != 0 {
          node.error("the CFS period is a whole number of microseconds, got '\(value)'")
          window = nil
        }
      }
    }
    var cpus: CPUSelection? = .all
    if let cpusReader = map.optional("host_cpus") {
      cpus = cpusReader.cpuSelection()
      switch cpus {
      case .nonEntitled?:
        cpusReader.error("the pool is a set of host CPUs: use a cpulist or 'all'")
        cpus = nil
      case .list(let list)?:
        let missing = CPUSet(list).subtracting(localCPUs)
        if !missing.isEmpty {
          cpusReader.error(
            "this machine has no CPU \(missing) (it has CPUs \(localCPUs))")
          cpus = nil
        }
      case .all?, nil: break
      }
    }
    guard let cpus, let model, let window else { return nil }
    return PoolSpec(hostCPUs: cpus, model: model, window: window)
  }

  package func checkPool(_ pool: PoolSpec?, hosts: [HostSpec], map: MappingReader) {
    let guests = hosts.filter { if case .qemu = $0.transport { true } else { false } }
    guard !guests.isEmpty else {
      if pool != nil {
        map.optional("pool")?.error("a pool only applies to qemu hosts, and there are none")
      }
      return
    }
    let poolCPUs: Int
    switch pool?.hostCPUs ?? .all {
    case .list(let cpus): poolCPUs = cpus.count
    default: poolCPUs = localCPUs.count
    }
    let entitled = guests.compactMap(\.entitlement).reduce(0, +)
    if entitled > Double(poolCPUs) + 1e-9 {
      let reader = map.optional("pool") ?? map.optional("hosts")!
      let shown =
        entitled == entitled.rounded() ? "\(Int(entitled))" : String(format: "%.2f", entitled)
      reader.error(
        "the qemu hosts' entitlements add up to \(shown) cores, more than the pool's "
          + "\(poolCPUs) host CPUs")
    }
  }

  // MARK: Roles

  package func hostReference(_ reader: NodeReader?, hosts: [HostSpec]) -> String? {
    guard let reader, let name = reader.string() else { return nil }
    if !hosts.isEmpty, !hosts.contains(where: { $0.name == name }) {
      let names = hosts.map(\.name)
      let hint = NodeReader.suggestion(for: name, among: names).map { " (did you mean '\($0)'?)" }
      reader.error(
        "no host named '\(name)'\(hint ?? "") — the hosts are \(NodeReader.list(names))")
      return nil
    }
    return name
  }

  /// One host name or a list of distinct ones (`host: vm2` or `host: [vm2, vm3]`).
  package func hostReferences(_ reader: NodeReader, hosts: [HostSpec]) -> [String]? {
    guard case .sequence = reader.node else {
      return hostReference(reader, hosts: hosts).map { [$0] }
    }
    let items = reader.sequence() ?? []
    if items.isEmpty { reader.error("name at least one host") }
    var names: [String] = []
    var ok = !items.isEmpty
    for item in items {
      guard let name = hostReference(item, hosts: hosts) else {
        ok = false
        continue
      }
      if names.contains(name) {
        item.error("'\(name)' is named twice")
        ok = false
      }
      names.append(name)
    }
    return ok ? names : nil
  }

  package func decodeMeasure(_ reader: NodeReader, hosts: [HostSpec]) -> MeasureSpec? {
    guard let map = reader.mapping(allowed: ["host", "schbench"]) else { return nil }
    let host = hostReference(map.required("host"), hosts: hosts)
    let schbench =
      map.optional("schbench").map(decodeSchbench)
      ?? defaultSchbench()
    guard let host, let schbench else { return nil }
    return MeasureSpec(host: host, schbench: schbench)
  }

  package func defaultSchbench() -> SchbenchSpec {
    SchbenchSpec(
      messageThreads: 1, workers: nil, runtime: .init(seconds: 30), warmup: .init(seconds: 0),
      interval: .init(seconds: 1), sleep: .init(nanoseconds: 100_000), operations: 5,
      cacheFootprint: .init(bytes: 256 << 10), locking: true, requestsPerSecond: nil,
      messageCPUs: nil, workerCPUs: nil)
  }

  package func decodeSchbench(_ reader: NodeReader) -> SchbenchSpec? {
    guard
      let map = reader.mapping(allowed: [
        "message_threads", "workers", "runtime", "warmup", "interval", "sleep", "operations",
        "cache_footprint", "locking", "rps", "message_cpus", "worker_cpus",
      ])
    else { return nil }
    var spec = defaultSchbench()
    var ok = true
    func read<T>(_ key: String, _ body: (NodeReader) -> T?) -> T? {
      guard let node = map.optional(key) else { return nil }
      let value = body(node)
      if value == nil { ok = false }
      return value
    }
    let second = DurationValue(seconds: 1)
    spec.messageThreads = read("message_threads") { $0.int(in: 1...1024) } ?? spec.messageThreads
    spec.workers = read("workers") { $0.int(in: 1...4096) } ?? spec.workers
    spec.runtime = read("runtime") { $0.duration(atLeast: second) } ?? spec.runtime
    spec.warmup = read("warmup") { $0.duration() } ?? spec.warmup
    spec.interval =
      read("interval") { $0.duration(atLeast: .init(nanoseconds: 100_000_000)) }
      ?? spec.interval
    spec.sleep = read("sleep") { $0.duration() } ?? spec.sleep
    spec.operations = read("operations") { $0.int(in: 0...1_000_000) } ?? spec.operations
    spec.cacheFootprint = read("cache_footprint") { $0.size() } ?? spec.cacheFootprint
    spec.locking = read("locking") { $0.bool() } ?? spec.locking
    spec.requestsPerSecond = read("rps") { $0.int(in: 1...100_000_000) } ?? spec.requestsPerSecond
    spec.messageCPUs = read("message_cpus") { $0.cpuList() } ?? spec.messageCPUs
    spec.workerCPUs = read("worker_cpus") { $0.cpuList() } ?? spec.workerCPUs
    if spec.interval > spec.runtime, let node = map.optional("interval") {
      node.error("the interval (\(spec.interval)) is longer than the runtime (\(spec.runtime))")
      ok = false
    }
    return ok ? spec : nil
  }

  package func decodeNoise(_ reader: NodeReader, hosts: [HostSpec]) -> NoiseSpec? {
    guard let map = reader.mapping(allowed: ["host", "stress"]) else { return nil }
    let names = map.required("host").flatMap { hostReferences($0, hosts: hosts) }
    let stress = map.required("stress").flatMap(decodeStress)
    guard let names, let first = names.first, let stress else { return nil }
    return NoiseSpec(
      host: first, stress: stress, otherHosts: names.count > 1 ? Array(names.dropFirst()) : nil)
  }

  package func decodeStress(_ reader: NodeReader) -> StressSpec? {
    guard let map = reader.mapping(allowed: ["busy", "idle", "workers", "engine"]) else {
      return nil
    }
    let tick = DurationValue(nanoseconds: 100_000_000)
    let busy = map.required("busy")?.duration(atLeast: tick)
    var idle: DurationValue?
    if let idleReader = map.required("idle") {
      if idleReader.scalarText("a duration") == "same-as-busy" {
        idle = busy
      } else {
        idle = idleReader.duration(atLeast: tick)
      }
    }
    var workers: WorkerCount? = .all
    if let node = map.optional("workers") {
      if node.scalarText("a count") == "all" {
        workers = .all
      } else {
        workers = node.int(in: 1...4096).map(WorkerCount.count)
      }
    }
    let engine = map.optional("engine").map { $0.choice(StressEngine.self) } ?? .auto
    guard let busy, let idle, let workers, let engine else { return nil }
    return StressSpec(busy: busy, idle: idle, workers: workers, engine: engine)
  }

  // MARK: Modes

  package func decodeModes(_ reader: NodeReader, hosts: [HostSpec] = []) -> [ModeSpec] {
    guard let items = reader.sequence() else { return [] }
    if items.isEmpty { reader.error("name at least one mode, e.g. 'out-of-box'") }
    var modes: [ModeSpec] = []
    var labels: [String: String] = [:]
    for item in items {
      guard var mode = decodeMode(item, hosts: hosts) else { continue }
      let sameKind = modes.filter { $0.kind == mode.kind }.count
      if sameKind > 0 {
        mode.id = "\(mode.kind.rawValue)-\(sameKind + 1)"
        if mode.label == mode.kind.defaultLabel { mode.label += "-\(sameKind + 1)" }
      }
      if let other = labels[mode.label] {
        item.error("the label '\(mode.label)' is already used by mode '\(other)'")
        continue
      }
      labels[mode.label] = mode.id
      modes.append(mode)
    }
    return modes
  }

  package func decodeMode(_ item: NodeReader, hosts: [HostSpec] = []) -> ModeSpec? {
    let kindReader: NodeReader
    let options: NodeReader?
    switch item.node {
    case .scalar:
      kindReader = item
      options = nil
    case .mapping(let mapping) where mapping.count == 1:
      let (keyNode, value) = mapping.first!
      kindReader = NodeReader(node: keyNode, path: item.path, sink: sink)
      options = item.child(keyNode.string ?? "?", value)
    default:
      item.error("expected a mode name, or one mode name with its options, got \(item.shown)")
      return nil
    }
    guard let kind = kindReader.choice(ModeKind.self) else { return nil }
    var mode = ModeSpec(id: kind.rawValue, kind: kind, label: kind.defaultLabel)
    let allowed: [String]
    switch kind {
    case .outOfBox: allowed = ["label"]
    case .hotplug, .cpuset: allowed = ["label", "cpus", "hosts"]
    case .paravirt: allowed = ["label", "cpus", "interface", "hosts"]
    case .preferred: allowed = ["label", "interval", "high", "low"]
    case .governor:
      allowed = ["label", "policy", "signal", "interval", "high", "low", "step", "apply"]
    }
    let map: MappingReader?
    if let options, !options.isNull {
      guard let checked = options.mapping(allowed: allowed) else { return nil }
      map = checked
    } else {
      map = nil
    }
    let before = sink.diagnostics.count
    if let label = map?.optional("label")?.string() { mode.label = label }
    switch kind {
    case .outOfBox:
      break
    case .hotplug, .cpuset, .paravirt:
      mode.cpus = map?.optional("cpus").map { $0.cpuSelection() } ?? .nonEntitled
      if kind == .paravirt {
        mode.paravirtInterface =
          map?.optional("interface").map { $0.choice(ParavirtInterface.self) } ?? .auto
      }
      if mode.cpus == .all, let node = map?.optional("cpus") {
        node.error("a mode cannot avoid every CPU; name the CPUs to avoid or 'non-entitled'")
      }
      if let node = map?.optional("hosts") {
        mode.hosts = hostReferences(node, hosts: hosts)
      }
    case .preferred, .governor:
      decodeStealGovernorParameters(&mode, map: map, item: item)
      if kind == .governor {
        if let signal = map?.optional("signal"), let text = signal.scalarText("'steal'"),
          text != "steal"
        {
          signal.error("the only signal is 'steal', got '\(text)'")
        }
        if let step = map?.optional("step"), let text = step.scalarText("'core'"), text != "core" {
          step.error("the only step is 'core' (all SMT siblings at once), got '\(text)'")
        }
        mode.governorPolicy =
          map?.optional("policy").map { $0.choice(GovernorPolicyKind.self) } ?? .stealGovernor
        mode.governorAction =
          map?.optional("apply").map { $0.choice(GovernorAction.self) } ?? .cpuset
      }
    }
    return sink.diagnostics.count == before ? mode : nil
  }

  /// Checks the CPUs each mode names against the measure host, where that is known now.
  package func checkModeCPUs(_ modes: [ModeSpec], on host: HostSpec, reader: NodeReader?) {
    let hostCPUs: CPUSet?
    switch host.transport {
    case .qemu(let qemu): hostCPUs = CPUSet(0..<qemu.vcpus)
    case .local(let root): hostCPUs = root.map(presentCPUs) ?? localCPUs
    case .ssh: hostCPUs = nil  // known once connected; checked again at run time
    }
    let items = reader?.sequence() ?? []
    for (index, mode) in modes.enumerated() {
      let item = index < items.count ? items[index] : reader
      switch mode.cpus {
      case .list(let cpus)?:
        let list = CPUSet(cpus)
        if let hostCPUs {
          let missing = list.subtracting(hostCPUs)
          if !missing.isEmpty {
            item?.error(
              "\(host.name) has no CPU \(missing) (it has CPUs \(hostCPUs))")
          } else if list == hostCPUs {
            item?.error("mode \(mode.id) would avoid every CPU of \(host.name)")
          }
        }
      case .nonEntitled?:
        guard let entitled = host.entitled else {
          item?.error(
            "'non-entitled' needs 'entitled' on host \(host.name): say how many cores it is "
              + "guaranteed")
          continue
        }
        if case .qemu(let qemu) = host.transport, entitled * qemu.threadsPerCore >= qemu.vcpus {
          item?.error(
            "\(host.name) has no non-entitled cores (entitled \(entitled) of "
              + "\(qemu.vcpus / qemu.threadsPerCore))")
        }
      default:
        break
      }
    }
  }

  // MARK: Sweep, expect, report

  package func decodeSweep(_ reader: NodeReader) -> [SweepAxis] {
    guard let entries = reader.anyMapping() else { return [] }
    var axes: [SweepAxis] = []
    for (key, _, value) in entries {
      if key == "sweep" || key.hasPrefix("sweep.") || key == "repeat" || key.hasPrefix("modes") {
        value.error("'\(key)' cannot be swept; modes are compared in every cell already")
        continue
      }
      if case .scalar(let scalar) = value.node, scalar.string.hasPrefix("same-as-") {
        let sibling = String(scalar.string.dropFirst("same-as-".count))
        let target = (key.split(separator: ".").dropLast().map(String.init) + [sibling])
          .joined(separator: ".")
        axes.append(SweepAxis(keyPath: key, values: [], sameAs: target))
        continue
      }
      guard let items = value.sequence() else { continue }
      if items.isEmpty { value.error("give at least one value") }
      let values = items.compactMap { $0.scalarText("a scalar value") }
      if Set(values).count != values.count { value.error("a value is listed twice") }
      axes.append(SweepAxis(keyPath: key, values: values, sameAs: nil))
    }
    for axis in axes {
      if let target = axis.sameAs,
        !axes.contains(where: { $0.keyPath == target && $0.sameAs == nil })
      {
        reader.child(axis.keyPath, reader.node).error(
          "same-as refers to '\(target)', which is not swept")
      }
    }
    return axes
  }

  package func decodeExpect(_ reader: NodeReader, modes: [ModeSpec]) -> ExpectSpec? {
    guard let map = reader.mapping(allowed: ["table", "tolerance", "values"]) else { return nil }
    let tolerance = map.required("tolerance")?.percentage(max: 1000)
    var table = "custom"
    var published: [String: [String: Double]] = [:]
    if let tableReader = map.optional("table") {
      guard let name = tableReader.string() else { return nil }
      guard let known = PublishedTables.byName[name] else {
        let hint =
          NodeReader.suggestion(for: name, among: Array(PublishedTables.byName.keys))
          .map { " (did you mean '\($0)'?)" } ?? ""
        tableReader.error(
          "no published table named '\(name)'\(hint); known: "
            + NodeReader.list(PublishedTables.byName.keys.sorted())
            + ", or give 'values' yourself")
        return nil
      }
      table = name
      for mode in modes {
        if let column = known[mode.kind] { published[mode.id] = column }
      }
      if published.isEmpty {
        tableReader.error(
          "the table '\(name)' has columns for "
            + NodeReader.list(
              known.keys.map(\.rawValue).sorted()) + ", and no mode here is one of them")
      }
    }
    if let valuesReader = map.optional("values"), let columns = valuesReader.anyMapping() {
      for (modeID, _, column) in columns {
        guard modes.contains(where: { $0.id == modeID }) else {
          column.error("no mode '\(modeID)' in this experiment")
          continue
        }
        guard let rows = column.anyMapping() else { continue }
        var parsed: [String: Double] = [:]
        for (row, _, value) in rows {
          let label = row.hasSuffix("th") ? String(row.dropLast(2)) : row
          guard let percentile = Double(label), percentile > 0, percentile < 100 else {
            value.error("a row is a percentile such as '99.0th', got '\(row)'")
            continue
          }
          if let number = value.double(in: 0...1e9) {
            parsed[PercentileKey(percentile).key] = number
          }
        }
        published[modeID] = parsed
      }
    }
    if map.optional("table") == nil && map.optional("values") == nil {
      reader.error("give a published 'table' name or 'values'")
    }
    guard let tolerance else { return nil }
    return ExpectSpec(table: table, tolerance: tolerance, wakeupMicroseconds: published)
  }

  package func decodeReport(_ reader: NodeReader) -> ReportSpec? {
    guard let map = reader.mapping(allowed: ["percentiles", "phase"]) else { return nil }
    var percentiles = [50, 90, 99, 99.9]
    if let list = map.optional("percentiles")?.sequence() {
      percentiles = list.compactMap { item -> Double? in
        guard let text = item.scalarText("a percentile") else { return nil }
        let number = text.hasSuffix("th") ? String(text.dropLast(2)) : text
        guard let value = Double(number), value > 0, value < 100 else {
          item.error("a percentile is between 0 and 100 (exclusive), got '\(text)'")
          return nil
        }
        return value
      }
    }
    var phase = PhaseSelection.busy
    if let node = map.optional("phase"), let text = node.scalarText("busy, idle or all") {
      if let selection = PhaseSelection(rawValue: text) {
        phase = selection
      } else {
        node.error(
          "expected one of "
            + PhaseSelection.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            + ", got '\(text)'")
      }
    }
    return ReportSpec(percentiles: percentiles, phase: phase)
  }
}
