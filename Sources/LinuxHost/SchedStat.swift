import Foundation

/// The three counters of a `schedstat` file (`/proc/<pid>/schedstat`,
/// `/proc/<pid>/task/<tid>/schedstat`): `run wait timeslices`.
///
/// The one parser of the format: the host-side steal of QEMU's vCPU threads and the stress
/// cycler's burner CPU time both read it through here.
package struct SchedStat: Sendable, Equatable {
  /// Time spent running on a CPU, ns.
  package var runNanoseconds: UInt64
  /// Time spent runnable but waiting on a run queue, ns (the host-side steal of a vCPU).
  package var waitNanoseconds: UInt64
  /// Number of timeslices run.
  package var timeslices: UInt64

  /// Memberwise.
  package init(runNanoseconds: UInt64, waitNanoseconds: UInt64, timeslices: UInt64) {
    self.runNanoseconds = runNanoseconds
    self.waitNanoseconds = waitNanoseconds
    self.timeslices = timeslices
  }

  /// Parses the text of a schedstat file.
  ///
  /// Fields after the third are ignored, so that a kernel adding one still parses.
  /// - Parameter path: named in the error.
  /// - Throws: `HostFileError.unreadable` when there are fewer than three fields or one of the
  ///   first three is not a whole number.
  package init(parsing text: String, path: String = "schedstat") throws(HostFileError) {
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard fields.count >= 3 else {
      throw HostFileError.unreadable(
        path: path, reason: "it has \(fields.count) fields where 3 belong")
    }
    var values: [UInt64] = []
    for field in fields.prefix(3) {
      guard let value = UInt64(field) else {
        throw HostFileError.unreadable(
          path: path, reason: "it has '\(field)' where a number belongs")
      }
      values.append(value)
    }
    self.init(runNanoseconds: values[0], waitNanoseconds: values[1], timeslices: values[2])
  }

  /// The schedstat path of a process, or of one of its threads.
  /// - Parameters:
  ///   - process: a pid, or `self`.
  ///   - thread: a thread id under the process's `task` folder; nil for the whole process.
  ///   - procRoot: `/proc`, or a fake tree in tests.
  package static func path(process: String, thread: Int32? = nil, procRoot: String = "/proc")
    -> String
  {
    if let thread { return "\(procRoot)/\(process)/task/\(thread)/schedstat" }
    return "\(procRoot)/\(process)/schedstat"
  }

  /// Reads the file at `path`.
  /// - Throws: `HostFileError.unreadable` when it is missing (the process or thread is gone)
  ///   or malformed.
  package static func read(path: String) throws(HostFileError) -> SchedStat {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw HostFileError.unreadable(path: path, reason: "the file is missing or unreadable")
    }
    return try SchedStat(parsing: String(decoding: data, as: UTF8.self), path: path)
  }

  /// Reads one process's or thread's schedstat; nil when it is gone or the file is malformed.
  package static func read(pid: Int32, tid: Int32? = nil, procRoot: String = "/proc")
    -> SchedStat?
  {
    try? read(path: path(process: "\(pid)", thread: tid, procRoot: procRoot))
  }
}
