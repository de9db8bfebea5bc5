import Foundation

/// One line of a cell's `hostside.csv`: a qemu guest's vCPU thread seen from this
/// machine (`CellFiles.hostSide`).
///
/// Run time and run-queue wait are the thread's cumulative schedstat counters, sampled
/// about once a second; the report takes differences between successive rows of one
/// thread. Without qemu guests the file holds only its header.
package struct HostSideRow: CSVRow {
  package static let columns = ["time_ns", "host", "vcpu", "run_ns", "wait_ns"]
  package static var header: String { columns.joined(separator: ",") }

  /// Nanoseconds since the cell started.
  package var timeNanoseconds: UInt64
  /// The guest (a host name of the experiment).
  package var host: String
  /// The vCPU's index in the guest.
  package var vcpu: Int
  /// Time the thread ran, cumulative.
  package var runNanoseconds: UInt64
  /// Time the thread waited runnable on a run queue, cumulative (host-side steal).
  package var waitNanoseconds: UInt64

  package init(
    timeNanoseconds: UInt64, host: String, vcpu: Int, runNanoseconds: UInt64,
    waitNanoseconds: UInt64
  ) {
    self.timeNanoseconds = timeNanoseconds
    self.host = host
    self.vcpu = vcpu
    self.runNanoseconds = runNanoseconds
    self.waitNanoseconds = waitNanoseconds
  }

  package var line: String {
    "\(timeNanoseconds),\(host),\(vcpu),\(runNanoseconds),\(waitNanoseconds)"
  }

  package init(line: Substring) throws(CSVLineError) {
    let fields = try CSVFields(line, columns: Self.columns)
    guard let vcpu = Int(fields.fields[2]), vcpu >= 0 else {
      throw .field(fields.fields[2], column: "vcpu", wants: "a vCPU index")
    }
    self.init(
      timeNanoseconds: try fields.counter(0), host: try fields.text(1), vcpu: vcpu,
      runNanoseconds: try fields.counter(3), waitNanoseconds: try fields.counter(4))
  }
}
