import AgentProtocol
import ArgumentParser
import Foundation
import LinuxHost
import Workloads

extension PVBench.Workload {
  struct Schbench: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "schbench",
      abstract: "Measure wakeup and request latency like schbench (same flags and output layout).",
      usage: "pvbench workload schbench [-m N] [-t N] [-r S] [-w S] [-i S] [-z S] [-F KB] "
        + "[-n N] [-s US] [-R RPS] [-L] [-M CPUS|auto] [-W CPUS|auto] [-j FILE] [-J NAME] "
        + "[--split PCT]",
      discussion: """
        Flags (schbench's, short or long, '-m 2', '-m2', '--message-threads=2'):
          -m, --message-threads N   message threads (default 1)
          -t, --threads N           workers per message thread (default: online CPUs
                                    divided by -m, rounded up)
          -r, --runtime S           seconds to run, warmup included (default 30)
          -w, --warmuptime S        seconds at the start not counted (default 0; none
                                    when -r is under 30 or with -R, as in schbench)
          -i, --intervaltime S      seconds between printed reports (default 10)
          -z, --zerotime S          restart the totals every S seconds (default never)
          -F, --cache_footprint KB  size of a worker's three matrices (default 256)
          -n, --operations N        matrix multiplies per request (default 5)
          -s, --sleep_usec US       request sleep, µs (default 100)
          -R, --rps N               fixed total request rate, posted in a burst at the
                                    start of each second (default off)
          -L, --no-locking          skip the per-CPU lock around the multiplies
          -M, --message-cpus LIST   message thread i pinned to the i-th CPU of LIST;
                                    'auto': to CPU i
          -W, --worker-cpus LIST    CPUs for workers, e.g. 2-7 ('auto': any)
          -j, --json FILE           write the JSON summary to FILE ('-' = stdout)
          -J, --jobname NAME        a job name for the JSON summary
              --split PCT           percent of the footprint private to each worker;
                                    the rest is shared by all (default: all private)

        The reports go to standard error in schbench's layout, so lkp-tests' and mmtests' \
        parsers read them unchanged. Deliberate differences from schbench: a monotonic \
        nanosecond clock; sub-microsecond samples are kept (the table rounds to whole µs, \
        the JSON has nanoseconds); zero-length wakeups are recorded, not dropped; one \
        HdrHistogram per thread, merged after each tick (no shared counters on the hot \
        path), printed through schbench's own buckets; per-interval snapshots for the \
        pvbench controller; '-j' lists every percentile, min, max, sample counts, the \
        average RPS and the command line. '-p' (pipe), '-C' (calibrate) and '-A' \
        (auto-rps) are refused.

        Exit codes: 0 success, 1 runtime failure, 2 invalid flags, 130 interrupted (the \
        totals so far are still printed).
        """
    )

    @Argument(parsing: .allUnrecognized, help: "schbench flags (listed above).")
    var flags: [String] = []

    func run() throws {
      let options: SchbenchOptions
      do {
        options = try SchbenchOptions.parse(arguments: flags)
      } catch {
        throw CommandFailure(.invalidInput, "pvbench workload schbench: \(error)")
      }
      let commandLine = ["pvbench", "workload", "schbench"] + flags
      let run = try SchbenchRun(options: options, commandLine: commandLine)
      if options.workersPerMessageThread == nil {
        printToStandardError("setting worker threads to \(run.workersPerMessageThread)")
      }
      let signals = WorkloadSignals { run.stop() }
      defer { signals.cancel() }
      do {
        try run.start(
          streamInterval: .seconds(options.intervalSeconds), onInterval: { _ in },
          onProgress: { result, elapsed in
            printToStandardError(SchbenchReport.progress(result, elapsedSeconds: elapsed))
          },
          onNotice: { printToStandardError($0) })
      } catch {
        throw CommandFailure(.runtimeFailure, "pvbench workload schbench: \(error)")
      }
      let result = run.wait()
      let runtime =
        signals.interrupted
        ? Int(result.runtimeSeconds.rounded()) : options.runtimeSeconds
      printToStandardError(SchbenchReport.final(result, runtimeSeconds: runtime))
      if let path = options.jsonPath {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(SchbenchSummary(result: result, options: options))
        if path == "-" {
          FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
          do {
            try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: path), options: .atomic)
          } catch {
            throw CommandFailure(
              .runtimeFailure,
              "pvbench workload schbench: could not write the JSON summary to '\(path)': "
                + "\(error.localizedDescription). Check that its folder exists and is writable.")
          }
        }
      }
      // The totals so far are printed above.
      if signals.interrupted { throw CommandFailure(.interrupted) }
    }
  }
}
