/// The kernel's push counter for the measured workload at the end of a cell: the
/// `preferredPushes` field of `cell.json` (docs/results-format.md).
///
/// The preferred-CPU series counts, per task, the pushes off a non-preferred CPU on its
/// tick path (`nr_migrations_cpu_non_preferred` in `/proc/PID/sched`); the agent sums it
/// over the workload's message threads and workers just before they exit.
public struct PreferredPushRecord: Codable, Sendable, Equatable {
  /// The workload's threads.
  public var threads: Int
  /// The threads whose `sched` file was read.
  public var threadsRead: Int
  /// `nr_migrations_cpu_non_preferred` summed over the threads; nil when no thread's file
  /// printed it.
  public var nonPreferredMigrations: Int64?
  /// `/proc/sys/kernel/sched_schedstats` on the measure host; nil when the file is missing.
  public var schedstats: Bool?

  public init(threads: Int, threadsRead: Int, nonPreferredMigrations: Int64?, schedstats: Bool?) {
    self.threads = threads
    self.threadsRead = threadsRead
    self.nonPreferredMigrations = nonPreferredMigrations
    self.schedstats = schedstats
  }

  /// One sentence a person reads: the count, or why there is none.
  public var sentence: String {
    if let count = nonPreferredMigrations {
      return "\(count) pushes off non-preferred CPUs (nr_migrations_cpu_non_preferred, "
        + "\(threadsRead) of \(threads) workload threads)"
    }
    if threadsRead == 0 {
      return "no push count: the workload threads' /proc/PID/task/TID/sched could not be read"
    }
    switch schedstats {
    case false?:
      return "no push count: schedstats are off (/proc/sys/kernel/sched_schedstats is 0; "
        + "echo 1 there, or boot with schedstats=enable)"
    case true?:
      return "no push count: the kernel prints no nr_migrations_cpu_non_preferred "
        + "(a kernel without the preferred-CPU series)"
    case nil:
      return "no push count: /proc/sys/kernel/sched_schedstats is missing and the kernel "
        + "prints no nr_migrations_cpu_non_preferred"
    }
  }
}
