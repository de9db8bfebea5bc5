import LinuxHost

#if canImport(Glibc)
  import Glibc
#endif

/// The settings of one schbench-equivalent run, with schbench's flags and defaults.
public struct SchbenchOptions: Codable, Sendable, Equatable {
  /// `-m`: message threads, each owning `workersPerMessageThread` workers.
  public var messageThreads: Int
  /// `-t`: workers per message thread; nil = schbench's default, resolved on the host that
  /// runs the workload (`defaultWorkers(onlineCPUs:messageThreads:)`), never where the
  /// options were written.
  public var workersPerMessageThread: Int?
  /// `-r`: total run time in seconds, warmup included.
  public var runtimeSeconds: Int
  /// `-w`: seconds at the start whose samples are dropped.
  public var warmupSeconds: Int
  /// `-i`: seconds between the cumulative reports printed while running.
  public var intervalSeconds: Int
  /// `-z`: every this many seconds the cumulative statistics restart; nil = never.
  public var zeroSeconds: Int?
  /// `-s`: the sleep at the start of each request, in microseconds.
  public var sleepMicroseconds: Int
  /// `-n`: matrix multiplies per request.
  public var operations: Int
  /// `-F`: the cache footprint of one worker's three matrices, in KiB.
  public var cacheFootprintKilobytes: Int
  /// `-L` clears this: take the per-CPU lock around the multiplies.
  public var locking: Bool
  /// `-R`: fixed request rate over all message threads; nil = as fast as workers go.
  public var requestsPerSecond: Int?
  /// `-M`: CPUs the message threads may run on; nil = any.
  public var messageCPUs: [Int]?
  /// `-W`: CPUs the workers may run on; nil = any.
  public var workerCPUs: [Int]?
  /// `-j`: where to write the JSON result (`-` = standard output); nil = nowhere.
  public var jsonPath: String?
  /// `-J`: a job name recorded in the JSON summary.
  public var jobName: String?
  /// `--split`: the percent of the footprint (and of the operations) that is private to
  /// each worker; the rest is one set of matrices all workers share. nil = all private.
  public var splitPercent: Int?

  /// Creates options with schbench's defaults.
  public init(
    messageThreads: Int = 1, workersPerMessageThread: Int? = nil, runtimeSeconds: Int = 30,
    warmupSeconds: Int = 0, intervalSeconds: Int = 10, zeroSeconds: Int? = nil,
    sleepMicroseconds: Int = 100, operations: Int = 5, cacheFootprintKilobytes: Int = 256,
    locking: Bool = true, requestsPerSecond: Int? = nil, messageCPUs: [Int]? = nil,
    workerCPUs: [Int]? = nil, jsonPath: String? = nil, jobName: String? = nil,
    splitPercent: Int? = nil
  ) {
    self.messageThreads = messageThreads
    self.workersPerMessageThread = workersPerMessageThread
    self.runtimeSeconds = runtimeSeconds
    self.warmupSeconds = warmupSeconds
    self.intervalSeconds = intervalSeconds
    self.zeroSeconds = zeroSeconds
    self.sleepMicroseconds = sleepMicroseconds
    self.operations = operations
    self.cacheFootprintKilobytes = cacheFootprintKilobytes
    self.locking = locking
    self.requestsPerSecond = requestsPerSecond
    self.messageCPUs = messageCPUs
    self.workerCPUs = workerCPUs
    self.jsonPath = jsonPath
    self.jobName = jobName
    self.splitPercent = splitPercent
  }

  /// The number of online CPUs of the host this process runs on.
  public static var onlineCPUCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

  /// schbench's default for `-t`: the host's online CPUs shared out among the message
  /// threads, rounding up.
  public static func defaultWorkers(onlineCPUs: Int, messageThreads: Int) -> Int {
    let cpus = max(1, onlineCPUs)
    let threads = max(1, messageThreads)
    return (cpus + threads - 1) / threads
  }

  /// The side of each square matrix: the footprint split in three matrices of UInt64.
  public var matrixSide: Int { Matrices.side(forKilobytes: cacheFootprintKilobytes) }

  /// With `--split`: the side of each worker's private matrices and of the shared ones,
  /// from the private and shared shares of the footprint (whole KiB, as schbench rounds).
  public var splitSides: (private: Int, shared: Int)? {
    guard let splitPercent else { return nil }
    let privateKilobytes = cacheFootprintKilobytes * splitPercent / 100
    let sharedKilobytes = cacheFootprintKilobytes * (100 - splitPercent) / 100
    return (
      Matrices.side(forKilobytes: privateKilobytes), Matrices.side(forKilobytes: sharedKilobytes)
    )
  }

  /// With `--split`: the multiplies per request on private and on shared matrices.
  public var splitOperations: (private: Int, shared: Int)? {
    guard let splitPercent else { return nil }
    let privateOperations = operations * splitPercent / 100
    return (privateOperations, operations - privateOperations)
  }

  /// The flags that reproduce these options (long forms), for a remote `pvbench workload`.
  public var arguments: [String] {
    var list = ["--message-threads", "\(messageThreads)"]
    if let workersPerMessageThread { list += ["--threads", "\(workersPerMessageThread)"] }
    list += [
      "--runtime", "\(runtimeSeconds)", "--warmuptime", "\(warmupSeconds)",
      "--intervaltime", "\(intervalSeconds)", "--sleep_usec", "\(sleepMicroseconds)",
      "--operations", "\(operations)", "--cache_footprint", "\(cacheFootprintKilobytes)",
    ]
    if let zeroSeconds { list += ["--zerotime", "\(zeroSeconds)"] }
    if !locking { list.append("--no-locking") }
    if let requestsPerSecond { list += ["--rps", "\(requestsPerSecond)"] }
    if let messageCPUs { list += ["--message-cpus", CPUSet.format(messageCPUs)] }
    if let workerCPUs { list += ["--worker-cpus", CPUSet.format(workerCPUs)] }
    if let jsonPath { list += ["--json", jsonPath] }
    if let jobName { list += ["--jobname", jobName] }
    if let splitPercent { list += ["--split", "\(splitPercent)"] }
    return list
  }

  /// The keys on the agent protocol's wire and in the results files, spelled out so that
  /// renaming a property cannot change them (docs/agent-protocol.md, "Keys and numbers").
  enum CodingKeys: String, CodingKey {
    case messageThreads = "messageThreads"
    case workersPerMessageThread = "workersPerMessageThread"
    case runtimeSeconds = "runtimeSeconds"
    case warmupSeconds = "warmupSeconds"
    case intervalSeconds = "intervalSeconds"
    case zeroSeconds = "zeroSeconds"
    case sleepMicroseconds = "sleepMicroseconds"
    case operations = "operations"
    case cacheFootprintKilobytes = "cacheFootprintKilobytes"
    case locking = "locking"
    case requestsPerSecond = "requestsPerSecond"
    case messageCPUs = "messageCPUs"
    case workerCPUs = "workerCPUs"
    case jsonPath = "jsonPath"
    case jobName = "jobName"
    case splitPercent = "splitPercent"
  }
}

extension SchbenchOptions {
  private enum Key {
    case messageThreads, threads, runtime, warmup, interval, zero, footprint, operations
    case sleep, rps, noLocking, messageCPUs, workerCPUs, json, pipe, calibrate, autoRPS
    case split, jobName
  }

  private static let shortFlags: [Character: Key] = [
    "m": .messageThreads, "t": .threads, "r": .runtime, "w": .warmup, "i": .interval,
    "z": .zero, "F": .footprint, "n": .operations, "s": .sleep, "R": .rps, "L": .noLocking,
    "M": .messageCPUs, "W": .workerCPUs, "j": .json, "J": .jobName, "p": .pipe, "C": .calibrate,
    "A": .autoRPS,
  ]

  private static let longFlags: [String: Key] = [
    "message-threads": .messageThreads, "threads": .threads, "runtime": .runtime,
    "warmuptime": .warmup, "intervaltime": .interval, "zerotime": .zero,
    "cache_footprint": .footprint, "cache-footprint": .footprint, "operations": .operations,
    "sleep_usec": .sleep, "sleeptime": .sleep, "rps": .rps, "no-locking": .noLocking,
    "message-cpus": .messageCPUs,
    "worker-cpus": .workerCPUs, "json": .json, "pipe": .pipe, "calibrate": .calibrate,
    "auto-rps": .autoRPS, "split": .split, "jobname": .jobName,
  ]

  /// Parses schbench's short and long flags (`-m 2`, `-m2`, `--message-threads 2`,
  /// `--message-threads=2`).
  /// - Throws: `WorkloadError.invalidOption` with one sentence naming the flag as typed and
  ///   the value in single quotes, e.g. `'-m' must be at least 1, got '0'.`
  public static func parse(arguments: [String]) throws -> SchbenchOptions {
    var options = SchbenchOptions()
    var autoPin = false
    var index = 0
    func fail(_ text: String) -> WorkloadError { .invalidOption(text) }
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      var key: Key
      var flag: String
      var inlineValue: String?
      if argument.hasPrefix("--") && argument.count > 2 {
        let body = argument.dropFirst(2)
        let name: Substring
        if let equals = body.firstIndex(of: "=") {
          name = body[..<equals]
          inlineValue = String(body[body.index(after: equals)...])
        } else {
          name = body
        }
        flag = "--" + name
        guard let found = longFlags[String(name)] else {
          throw fail(
            "unknown flag '\(flag)'; run 'pvbench workload schbench --help' for the flags.")
        }
        key = found
      } else if argument.hasPrefix("-") && argument.count >= 2 {
        let letter = argument[argument.index(after: argument.startIndex)]
        flag = "-\(letter)"
        guard let found = shortFlags[letter] else {
          throw fail(
            "unknown flag '\(flag)'; run 'pvbench workload schbench --help' for the flags.")
        }
        key = found
        let rest = argument.dropFirst(2)
        if !rest.isEmpty { inlineValue = String(rest) }
      } else {
        throw fail("unexpected argument '\(argument)'; schbench flags take the form '-m 2'.")
      }

      switch key {
      case .noLocking:
        if let inlineValue { throw fail("'\(flag)' takes no value, got '\(inlineValue)'.") }
        options.locking = false
        continue
      case .pipe:
        throw fail("'\(flag)' (pipe mode) is not supported by pvbench; leave it out.")
      case .calibrate:
        throw fail("'\(flag)' (calibrate) is not supported by pvbench; leave it out.")
      case .autoRPS:
        throw fail("'\(flag)' (auto-rps) is not supported by pvbench; use '-R' with a fixed rate.")
      default:
        break
      }

      let value: String
      if let inlineValue {
        value = inlineValue
      } else if index < arguments.count {
        value = arguments[index]
        index += 1
      } else {
        throw fail("'\(flag)' needs a value.")
      }

      func number(_ minimum: Int, _ maximum: Int = 1 << 30) throws -> Int {
        guard let parsed = Int(value) else {
          throw fail("'\(flag)' must be a whole number, got '\(value)'.")
        }
        guard parsed >= minimum else {
          throw fail("'\(flag)' must be at least \(minimum), got '\(value)'.")
        }
        guard parsed <= maximum else {
          throw fail("'\(flag)' must be at most \(maximum), got '\(value)'.")
        }
        return parsed
      }
      func cpus() throws -> [Int] {
        // schbench's `auto`: message thread i alone on CPU i; the workers, in effect,
        // anywhere (schbench's auto worker set ends up holding every CPU).
        if value == "auto" {
          autoPin = true
          return []
        }
        guard let list = CPUSet.parse(value) else {
          throw fail("'\(flag)' must be a CPU list such as '0-3,8', got '\(value)'.")
        }
        return list
      }

      switch key {
      case .messageThreads: options.messageThreads = try number(1, 1024)
      case .threads: options.workersPerMessageThread = try number(1, 4096)
      case .runtime: options.runtimeSeconds = try number(1)
      case .warmup: options.warmupSeconds = try number(0)
      case .interval: options.intervalSeconds = try number(1)
      case .zero:
        let seconds = try number(0)
        options.zeroSeconds = seconds == 0 ? nil : seconds
      case .footprint: options.cacheFootprintKilobytes = try number(0, 1 << 22)
      case .operations: options.operations = try number(0)
      case .sleep: options.sleepMicroseconds = try number(0)
      case .rps: options.requestsPerSecond = try number(1)
      case .messageCPUs:
        let list = try cpus()
        if !list.isEmpty { options.messageCPUs = list }
      case .workerCPUs:
        let list = try cpus()
        if !list.isEmpty { options.workerCPUs = list }
      case .jobName: options.jobName = value
      case .json:
        guard !value.isEmpty else { throw fail("'\(flag)' needs a file name or '-'.") }
        options.jsonPath = value
      case .split: options.splitPercent = try number(0, 100)
      case .noLocking, .pipe, .calibrate, .autoRPS: break
      }
    }
    if autoPin {
      options.messageCPUs = Array(0..<options.messageThreads)
      options.workerCPUs = nil
    }
    if let workers = options.workersPerMessageThread, options.messageThreads * workers > 16384 {
      throw fail(
        "'-m' times '-t' must be at most 16384 threads, got "
          + "'\(options.messageThreads * workers)'.")
    }
    // schbench's rules: no warmup in runs shorter than 30 s, nor in `-R` mode.
    if options.runtimeSeconds < 30 || options.requestsPerSecond != nil {
      options.warmupSeconds = 0
    }
    if options.warmupSeconds >= options.runtimeSeconds && options.warmupSeconds > 0 {
      throw fail(
        "'-w' must be shorter than '-r' (\(options.runtimeSeconds) s), "
          + "got '\(options.warmupSeconds)'.")
    }
    return options
  }
}
