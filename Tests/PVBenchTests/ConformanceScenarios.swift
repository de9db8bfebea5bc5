import AgentProtocol
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

// The request sequences of the conformance suite (AgentConformanceTests), one per part of
// docs/agent-protocol.md and docs/modes.md. Their recorded transcripts are in
// agent/conformance/transcripts.
extension ConformanceScenario {
  typealias S = ConformanceScenario

  static let all: [ConformanceScenario] = [
    protocolBasics, edges, factsLPAR, factsBare, hotplug, badModeParams, paravirt,
    paravirtReadOnly, powerpcDebugfs, preferred, preferredTimeline, cpusetV2, cpusetV1,
    cpusetV1Steps,
    verifyFailed, restoreProblems, crashAndRecover, workloads,
  ]

  /// Handshake, framing, malformed lines, the requests without a mode, monitors, shutdown.
  static let protocolBasics = ConformanceScenario(
    name: "protocol", tree: { try FakeHostTree() },
    steps: [
      S.request(1, .ping),
      S.raw("this is not json"),
      S.raw(#"{"op":"ping"}"#),
      S.raw(#"{"id":1.5,"op":"ping"}"#),
      S.raw("[1,2]"),
      S.raw(#"{"id":"s1"}"#),
      S.raw(#"{"id":2,"op":"ping","params":[1]}"#),
      S.raw(#"{"id":3,"op":"nonsense"}"#),
      S.raw(#"{"id":4,"op":"hello"}"#),
      S.raw(#"{"id":5,"op":"hello","params":{"protocol":"2.0"}}"#),
      S.raw(#"{"id":6,"op":"hello","params":{"protocol":"x"}}"#),
      S.hello,
      S.request(7, .ping),
      S.raw(#"{"id":"text-id","op":"ping","params":{}}"#),
      S.raw(#"{"id":8,"op":"ping","params":{"a":"\u00e9\n\"q\"\ud83d\ude00"}}"#),
      S.raw(#"   {"id":9,"op":"clock"}   "#),
      .silent(""),
      .silent("   "),
      S.request(10, .facts),
      S.request(11, .sampleStart, ["interval_ms": 5]),
      S.request(12, .sampleStart, ["interval_ms": 3_600_001]),
      S.request(13, .sampleStart, ["interval_ms": 20], awaiting: [.samples]),
      S.request(14, .sampleStop),
      S.request(15, .sampleStop),
      S.request(16, .kmsgWatch, ["path": "/no/such/kmsg"]),
      S.request(17, .kmsgWatch),
      .append("/dev/kmsg", "4,100,5000,-;WARNING: CPU: 1 PID: 7 at kernel/sched/core.c:42\n"),
      S.request(18, .ping, awaiting: [.kernelWarning]),
      S.request(19, .workloadStart),
      S.request(20, .stressStart),
      S.request(21, .workloadStop),
      S.request(22, .stressStop),
      S.request(23, .modeVerify),
      S.request(24, .modeRestore),
      S.request(25, .shutdown),
    ])

  /// The parser's corners, option checks, and SIGHUP.
  static let edges = ConformanceScenario(
    name: "edges", tree: { try FakeHostTree() },
    steps: [
      S.hello,
      S.raw(#"{"id":2.0,"op":"ping"}"#),
      S.raw(#"{"id":1e2,"op":"ping"}"#),
      S.raw(#"{"id":-9223372036854775808,"op":"ping"}"#),
      S.raw(#"{"id":3,"op":"ping","op":"clock"}"#),
      S.raw(#"{"id":true,"op":"ping"}"#),
      S.raw(#"{"id":null,"op":"ping"}"#),
      S.raw(#"{"id":4,"op":5}"#),
      S.raw(#"{"id":5,"op":"ping"} trailing"#),
      S.raw(#"{"id":6,"op":"ping","params":null}"#),
      S.raw(#"{"id":7,"op":"ping","x":[1,2,{"y":[true,false,null,-0.5,1E-7]}]}"#),
      S.raw(#"{"id":""# + String(repeating: "é", count: 90) + #"","op":"nonsense"}"#),
      S.raw(#"{"broken": ""# + String(repeating: "x", count: 100)),
      S.raw(#"{"id":8,"op":"ping","s":"\ud800"}"#),
      S.raw(#"{"id":9,"op":"hello","params":{"protocol":"1.7"}}"#),
      S.raw(#"{"id":10,"op":"hello","params":{"protocol":"1"}}"#),
      S.raw(#"{"id":11,"op":"hello","params":{"protocol":1}}"#),
      S.request(12, .sampleStart, ["interval_ms": "fast"], awaiting: [.samples]),
      S.request(13, .sampleStart, ["interval_ms": 10.0], awaiting: [.samples]),
      S.request(14, .workloadStart, ["options": [:]]),
      S.request(15, .workloadStart, ["options": ["messageThreads": 1]]),
      S.request(
        16, .workloadStart,
        [
          "options": [
            "messageThreads": 1, "runtimeSeconds": 1, "warmupSeconds": 0, "intervalSeconds": 1,
            "sleepMicroseconds": 100, "operations": 5, "cacheFootprintKilobytes": 256,
            "locking": true,
          ],
          "stream_interval_ms": 1,
        ]),
      S.request(17, .stressStart, ["options": ["busyNanoseconds": 1]]),
      S.request(
        18, .stressStart,
        [
          "options": [
            "busyNanoseconds": 1_000_000, "idleNanoseconds": 1_000_000, "engine": "turbo",
            "stressNGControl": "restart",
          ]
        ]),
      // Options that do not decode: both agents name the first wrong member, in the same
      // sentence (JSON.decodingProblem, agent/monitors.c).
      S.request(19, .workloadStart, ["options": "fast"]),
      S.request(
        20, .workloadStart,
        [
          "options": [
            "messageThreads": 1, "runtimeSeconds": 1, "warmupSeconds": 0, "intervalSeconds": 1,
            "sleepMicroseconds": 100, "operations": 5, "cacheFootprintKilobytes": 256,
            "locking": "yes", "requestsPerSecond": "many",
          ]
        ]),
      S.request(
        21, .workloadStart,
        [
          "options": [
            "messageThreads": 1, "runtimeSeconds": 1, "warmupSeconds": 0, "intervalSeconds": 1,
            "sleepMicroseconds": 100, "operations": 5, "cacheFootprintKilobytes": 256,
            "locking": true, "messageCPUs": [0, "one"], "jobName": 7,
          ]
        ]),
      S.request(22, .stressStart, ["options": ["busyNanoseconds": -1, "idleNanoseconds": 1]]),
      S.request(
        23, .stressStart, ["options": ["busyNanoseconds": 1, "idleNanoseconds": 1, "engine": 5]]),
      S.request(
        24, .stressStart,
        ["options": ["busyNanoseconds": 1, "idleNanoseconds": 1, "engine": "builtin"]]),
      .signal(SIGHUP),
    ])

  static let factsLPAR = ConformanceScenario(
    name: "facts-lpar",
    tree: {
      try FakeHostTree(
        cores: 6, threadsPerCore: 4, paravirt: false, vpManualHint: true, cgroup: .v1,
        stealGovernorModule: true, entitledCapacity: 3)
    },
    steps: [S.hello, S.request(2, .facts)])

  static let factsBare = ConformanceScenario(
    name: "facts-bare",
    tree: { try FakeHostTree(cores: 1, threadsPerCore: 1, paravirtWritable: false, cgroup: .none) },
    steps: [S.hello, S.request(2, .facts)])

  static func apply(_ id: Int, _ params: JSON) -> Step { S.request(id, .modeApply, params) }

  /// A one-second schbench-equivalent (one message thread, one worker) streaming every
  /// 250 ms.
  static func oneSecondSchbench(_ id: Int, awaiting: [AgentEventName]) -> Step {
    S.request(
      id, .workloadStart,
      [
        "options": [
          "messageThreads": 1, "workersPerMessageThread": 1, "runtimeSeconds": 1,
          "warmupSeconds": 0, "intervalSeconds": 1, "sleepMicroseconds": 100, "operations": 1,
          "cacheFootprintKilobytes": 8, "locking": true,
        ],
        "stream_interval_ms": 250,
      ], awaiting: awaiting)
  }

  /// The opening of the mode scenarios: the handshake, `mode` on the non-entitled CPUs
  /// (request 2), a verify (3), then `mode` on `cpus` as an incremental change (4).
  static func nonEntitledThenIncremental(
    _ mode: String, to cpus: String, host: String = "h"
  ) -> [Step] {
    [
      S.hello,
      apply(2, ["mode": .string(mode), "cpus": "non-entitled", "host": .string(host)]),
      S.request(3, .modeVerify),
      apply(
        4,
        ["mode": .string(mode), "cpus": .string(cpus), "host": .string(host), "incremental": true]),
    ]
  }

  /// An agent that crashes at `step` while applying `params` as request `id`, and the next
  /// agent's `recovered` hello and a verify (request `id + 1`).
  static func crashThenRecover(atStep step: Int, _ id: Int, _ params: JSON) -> [Step] {
    [
      .restart(["PVBENCH_CRASH_AT_STEP": "\(step)"]),
      S.hello,
      apply(id, params),
      .waitForExit,
      .restart([:]),
      S.hello,
      S.request(id + 1, .modeVerify),
    ]
  }

  static let hotplug = ConformanceScenario(
    name: "hotplug", tree: { try FakeHostTree(entitledCapacity: 2) },
    steps: nonEntitledThenIncremental("hotplug", to: "6-7", host: "lpar1") + [
      apply(5, ["mode": "hotplug", "cpus": "2-7", "host": "lpar1", "incremental": true]),
      S.request(6, .modeVerify),
      S.request(7, .modeRestore),
      S.request(8, .modeVerify),
      apply(9, ["mode": "hotplug", "cpus": "all", "host": "lpar1"]),
      apply(10, ["mode": "hotplug", "cpus": "0-9", "host": "lpar1"]),
      apply(11, ["mode": "hotplug", "cpus": "0", "host": "lpar1"]),
      apply(
        12,
        [
          "mode": "hotplug", "cpus": "1-3", "host": "lpar1", "evacuation": true,
          "evacuation_window_ms": 20,
        ]),
      apply(13, ["mode": "out-of-box", "host": "lpar1"]),
      S.request(14, .modeVerify),
      S.request(15, .shutdown),
    ])

  /// Every bad-params and unsupported sentence of ModeRequest and ModeSupport.
  static let badModeParams = ConformanceScenario(
    name: "bad-mode-params", tree: { try FakeHostTree() },
    steps: [
      S.hello,
      apply(2, [:]),
      apply(3, ["mode": "governor"]),
      apply(4, ["mode": "hotplug"]),
      apply(5, ["mode": "hotplug", "cpus": "3-1"]),
      apply(6, ["mode": "paravirt", "cpus": "1", "interface": "magic"]),
      apply(7, ["mode": "hotplug", "cpus": "non-entitled", "host": "h"]),
      apply(8, ["mode": "cpuset", "cpus": "0-7", "host": "h"]),
      apply(9, ["mode": "preferred", "host": "h"]),
      apply(10, ["mode": "paravirt", "cpus": "1", "interface": "powerpc-debugfs", "host": "h"]),
      S.request(11, .shutdown),
    ])

  static let paravirt = ConformanceScenario(
    name: "paravirt", tree: { try FakeHostTree(entitledCapacity: 3) },
    steps: nonEntitledThenIncremental("paravirt", to: "4-7") + [
      S.request(5, .modeVerify),
      apply(6, ["mode": "paravirt", "cpus": "all", "host": "h"]),
      apply(7, ["mode": "paravirt", "cpus": "0-6", "host": "h"]),
      S.request(8, .modeVerify),
      .closeInput,
    ])

  static let paravirtReadOnly = ConformanceScenario(
    name: "paravirt-readonly", tree: { try FakeHostTree(paravirtWritable: false) },
    steps: [
      S.hello,
      apply(2, ["mode": "paravirt", "cpus": "6-7", "host": "h"]),
      S.request(3, .shutdown),
    ])

  static let powerpcDebugfs = ConformanceScenario(
    name: "powerpc-debugfs",
    tree: { try FakeHostTree(paravirt: false, vpManualHint: true, entitledCapacity: 2) },
    steps: [
      S.hello,
      apply(2, ["mode": "paravirt", "cpus": "2-5", "host": "h"]),
      apply(3, ["mode": "paravirt", "cpus": "non-entitled", "host": "h"]),
      S.request(4, .modeVerify),
      S.request(5, .modeRestore),
      S.request(6, .shutdown),
    ])

  static let preferred = ConformanceScenario(
    name: "preferred", tree: { try FakeHostTree(stealGovernorModule: true) },
    steps: [
      S.hello,
      apply(2, ["mode": "preferred", "host": "h", "interval_ms": 50]),
      apply(
        3,
        [
          "mode": "preferred", "host": "h", "interval_ms": 500, "high_threshold": 800,
          "low_threshold": 300,
        ]),
      S.request(4, .modeVerify),
      S.request(5, .facts),
      S.request(6, .modeRestore),
      S.request(7, .modeVerify),
      S.request(8, .shutdown),
    ])

  /// Protocol 1.2: the sampler's `preferred` events as the kernel (here the test, behind
  /// the agent's back) changes the preferred set, and the push counter of the workload's
  /// threads in `workload-done` (the fake kernel's `proc/self/task/<n>/sched`).
  static let preferredTimeline = ConformanceScenario(
    name: "preferred-timeline",
    tree: {
      let tree = try FakeHostTree(cores: 2, threadsPerCore: 2, stealGovernorModule: true)
      try tree.write("/proc/sys/kernel/sched_schedstats", "1\n")
      for (tid, pushes) in [(101, 3), (102, 4)] {
        try tree.write(
          "/proc/self/task/\(tid)/sched",
          "schbench-w (\(tid), #threads: 3)\n"
            + "-------------------------------------------------------------------\n"
            + "se.exec_start                                :        123456.789012\n"
            + "nr_migrations_cpu_non_preferred              :                    \(pushes)\n"
            + "nr_switches                                  :                   42\n")
      }
      return tree
    },
    steps: [
      S.hello,
      apply(2, ["mode": "preferred", "host": "h", "interval_ms": 100]),
      S.request(3, .sampleStart, ["interval_ms": 20], awaiting: [.samples, .preferred]),
      .chmod("/sys/devices/system/cpu/preferred", 0o644),
      .set("/sys/devices/system/cpu/preferred", "0-1\n"),
      S.request(4, .ping, awaiting: [.preferred]),
      .set("/sys/devices/system/cpu/preferred", "0,1,2-3\n"),
      S.request(5, .ping, awaiting: [.preferred]),
      .set("/sys/devices/system/cpu/preferred", "not a cpulist\n"),
      S.request(6, .sampleStop),
      oneSecondSchbench(7, awaiting: [.workloadDone]),
      .set("/proc/sys/kernel/sched_schedstats", "0\n"),
      .set("/proc/self/task/101/sched", "schbench-msg (101, #threads: 3)\n"),
      .set("/proc/self/task/102/sched", "schbench-w (102, #threads: 3)\n"),
      oneSecondSchbench(8, awaiting: [.workloadDone]),
      S.request(9, .modeRestore),
      S.request(10, .shutdown),
    ])

  static let cpusetV2 = ConformanceScenario(
    name: "cpuset-v2", tree: { try FakeHostTree(entitledCapacity: 2) },
    steps: nonEntitledThenIncremental("cpuset", to: "6-7") + [
      S.request(5, .modeVerify),
      apply(6, ["mode": "hotplug", "cpus": "7", "host": "h"]),
      apply(7, ["mode": "cpuset", "cpus": "4-7", "host": "h"]),
      .signal(SIGTERM),
    ])

  static let cpusetV1 = ConformanceScenario(
    name: "cpuset-v1", tree: { try FakeHostTree(cgroup: .v1) },
    steps: [
      S.hello,
      apply(2, ["mode": "cpuset", "cpus": "4-7", "host": "h"]),
      S.request(3, .modeVerify),
      S.request(4, .modeRestore),
      S.request(5, .shutdown),
    ])

  static let cpusetV1Steps = ConformanceScenario(
    name: "cpuset-v1-steps", tree: { try FakeHostTree(cgroup: .v1, entitledCapacity: 1) },
    steps: [
      S.hello,
      apply(
        2,
        [
          "mode": "cpuset", "cpus": "non-entitled", "host": "h", "evacuation": true,
          "evacuation_window_ms": 10,
        ]),
      apply(
        3,
        ["mode": "cpuset", "cpus": "4-7", "host": "h", "incremental": true, "evacuation": true]),
      apply(
        4,
        [
          "mode": "cpuset", "cpus": "2-7", "host": "h", "incremental": true, "evacuation": true,
          "evacuation_window_ms": 10,
        ]),
      S.request(5, .modeVerify),
      apply(6, ["mode": "cpuset", "cpus": "0-7", "host": "h", "incremental": true]),
      apply(7, ["mode": "hotplug", "cpus": "3", "host": "h", "incremental": true]),
      apply(8, ["mode": "paravirt", "cpus": "3", "host": "h", "interface": "sysfs"]),
      S.request(9, .shutdown),
    ])

  /// The verify-failed sentences: a change undone behind the agent's back.
  static let verifyFailed = ConformanceScenario(
    name: "verify-failed",
    tree: { try FakeHostTree(stealGovernorModule: true, entitledCapacity: 2) },
    steps: [
      S.hello,
      apply(2, ["mode": "hotplug", "cpus": "6-7", "host": "h"]),
      .set("/sys/devices/system/cpu/online", "0-6\n"),
      S.request(3, .modeVerify),
      apply(4, ["mode": "paravirt", "cpus": "5-7", "host": "h"]),
      .set("/sys/devices/system/cpu/paravirt", "1\n"),
      S.request(5, .modeVerify),
      .set("/sys/devices/system/cpu/paravirt", "5-7\n"),
      apply(6, ["mode": "cpuset", "cpus": "4-7", "host": "h"]),
      .set("/proc/400/cgroup", "0::/user.slice\n"),
      S.request(7, .modeVerify),
      .set("/sys/fs/cgroup/init.scope/cgroup.procs", "1\n"),
      S.request(8, .modeRestore),
      S.request(9, .modeVerify),
      apply(10, ["mode": "hotplug", "cpus": "7", "host": "h"]),
      S.request(11, .modeRestore),
      .closeInput,
    ])

  /// A restore the kernel refuses: the journal stays, later requests retry it, shutdown
  /// refuses until it restores.
  static let restoreProblems = ConformanceScenario(
    name: "restore-problems", tree: { try FakeHostTree() },
    steps: [
      S.hello,
      apply(2, ["mode": "paravirt", "cpus": "6-7", "host": "h"]),
      .chmod("/sys/devices/system/cpu/paravirt", 0o444),
      S.request(3, .modeRestore),
      S.request(4, .modeVerify),
      apply(5, ["mode": "hotplug", "cpus": "7", "host": "h"]),
      S.request(6, .shutdown),
      .chmod("/sys/devices/system/cpu/paravirt", 0o644),
      apply(7, ["mode": "hotplug", "cpus": "7", "host": "h"]),
      S.request(8, .modeVerify),
      S.request(9, .shutdown),
    ])

  /// `PVBENCH_CRASH_AT_STEP` after a journal line and after a change; the next agent's
  /// `recovered` hello and the tree it leaves.
  static let crashAndRecover = ConformanceScenario(
    name: "crash-and-recover", tree: { try FakeHostTree(entitledCapacity: 1) },
    steps: crashThenRecover(atStep: 4, 2, ["mode": "hotplug", "cpus": "non-entitled", "host": "h"])
      + crashThenRecover(atStep: 5, 4, ["mode": "cpuset", "cpus": "4-7", "host": "h"])
      + [S.request(6, .shutdown)])

  /// A one-second schbench-equivalent and a stress cycler: their replies, and the shape of
  /// their events (the measurements themselves are the fidelity benchmark's, bench/schbench).
  static let workloads = ConformanceScenario(
    name: "workloads", tree: { try FakeHostTree(cores: 2, threadsPerCore: 1) },
    steps: [
      S.hello,
      oneSecondSchbench(2, awaiting: [.interval, .workloadDone]),
      S.request(3, .workloadStop),
      S.request(
        4, .stressStart,
        [
          "options": [
            "busyNanoseconds": 100_000_000, "idleNanoseconds": 100_000_000, "workers": 1,
            "engine": "builtin", "stressNGControl": "stop-continue",
          ]
        ], awaiting: [.edge, .phase]),
      S.request(5, .stressStop),
      S.request(6, .shutdown),
    ])
}
