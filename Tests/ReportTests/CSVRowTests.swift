import Foundation
import Results
import Testing

/// The rows of `samples.csv` and `hostside.csv`: each row type's line is what its parser
/// reads back, the writer's files are what the reader returns, and a damaged line is named
/// and skipped rather than stopping the read.
@Suite struct CSVRowTests {
  static let sample = CPUSampleRow(
    timeNanoseconds: 1_500_000_000, host: "lpar1", cpu: .cpu(12), user: 1, nice: 2, system: 3,
    idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8)
  static let aggregate = CPUSampleRow(
    timeNanoseconds: 1_500_000_000, host: "lpar1", cpu: .all, user: 10, nice: 20, system: 30,
    idle: 40, iowait: 50, irq: 60, softirq: 70, steal: UInt64.max)
  static let thread = HostSideRow(
    timeNanoseconds: 2_000_000_000, host: "lpar2", vcpu: 3, runNanoseconds: 700_000_000,
    waitNanoseconds: 900_000_000)

  @Test func theHeadersAreTheDocumentedColumns() {
    #expect(
      CPUSampleRow.header == "time_ns,host,cpu,user,nice,system,idle,iowait,irq,softirq,steal")
    #expect(HostSideRow.header == "time_ns,host,vcpu,run_ns,wait_ns")
  }

  @Test(arguments: [sample, aggregate])
  func aCPUSampleRowRoundTripsThroughItsLine(row: CPUSampleRow) throws {
    #expect(!row.line.contains("\n"))
    #expect(try CPUSampleRow(line: Substring(row.line)) == row)
  }

  @Test func theLinesAreTheFilesColumnsInOrder() {
    #expect(Self.sample.line == "1500000000,lpar1,cpu12,1,2,3,4,5,6,7,8")
    #expect(Self.aggregate.line == "1500000000,lpar1,all,10,20,30,40,50,60,70,18446744073709551615")
    #expect(Self.thread.line == "2000000000,lpar2,3,700000000,900000000")
  }

  @Test func aHostSideRowRoundTripsThroughItsLine() throws {
    #expect(try HostSideRow(line: Substring(Self.thread.line)) == Self.thread)
  }

  @Test(arguments: [
    ("1500000000,lpar1,all,1,2,3,4", "7 fields, not the 11 columns of the header"),
    ("1500000000,lpar1,cpuX,1,2,3,4,5,6,7,8", "cpu 'cpuX' is not 'all' or cpuN"),
    ("1500000000,lpar1,all,1,2,3,-4,5,6,7,8", "idle '-4' is not a non-negative integer"),
    ("1500000000,,all,1,2,3,4,5,6,7,8", "host is empty"),
    ("1.5,lpar1,all,1,2,3,4,5,6,7,8", "time_ns '1.5' is not a non-negative integer"),
  ])
  func aDamagedSampleLineSaysWhatIsWrong(line: String, reason: String) {
    #expect(throws: CSVLineError(reason)) { try CPUSampleRow(line: Substring(line)) }
  }

  @Test(arguments: [
    ("2000000000,lpar2,3,700000000", "4 fields, not the 5 columns of the header"),
    ("2000000000,lpar2,three,1,2", "vcpu 'three' is not a vCPU index"),
    ("2000000000,lpar2,3,1,", "wait_ns '' is not a non-negative integer"),
  ])
  func aDamagedHostSideLineSaysWhatIsWrong(line: String, reason: String) {
    #expect(throws: CSVLineError(reason)) { try HostSideRow(line: Substring(line)) }
  }

  /// A crash mid-write leaves half a line; a damaged file holds anything. The reader keeps
  /// every row that parses and lists the others with their line numbers.
  @Test func theReaderSkipsDamagedLinesAndNamesThem() {
    let text = [
      HostSideRow.header, Self.thread.line, "garbage", "", Self.thread.line,
      "2000000000,lpar2,3,7",
    ].joined(separator: "\n")
    let read = CSVRows<HostSideRow>(parsing: text)
    #expect(read.rows == [Self.thread, Self.thread])
    #expect(
      read.damaged == [
        .init(number: 3, reason: "1 fields, not the 5 columns of the header"),
        .init(number: 6, reason: "4 fields, not the 5 columns of the header"),
      ])
  }

  @Test func aFileWithAnotherHeaderIsReadAndTheHeaderNamed() {
    let read = CSVRows<HostSideRow>(parsing: "time,host,vcpu,run,wait\n" + Self.thread.line)
    #expect(read.rows == [Self.thread])
    #expect(
      read.damaged == [
        .init(number: 1, reason: "the header is not 'time_ns,host,vcpu,run_ns,wait_ns'")
      ])
  }

  /// What `CellWriter` appends is what `CellFiles` reads: the header first, every row in
  /// order; `aggregatesOnly` keeps each host's `all` rows.
  @Test func whatTheWriterWritesTheReaderReads() throws {
    let folder = try CellWriterFolder("csvrows")
    defer { folder.remove() }
    let (directory, writer) = (folder.directory, folder.writer)
    writer.append([Self.sample, Self.aggregate])
    writer.append([Self.thread])
    writer.append([HostSideRow]())
    try writer.finish(
      CellSummary(
        id: "c1", modeID: "out-of-box", point: [:], repetition: 1, status: .complete,
        reasons: [], startedAt: "", endedAt: "", phases: [:], stealSource: .none,
        settleMilliseconds: 0))
    let files = CellFiles(directory)
    let samples = try #require(files.readCPUSamples())
    #expect(samples.rows == [Self.sample, Self.aggregate])
    #expect(samples.damaged.isEmpty)
    #expect(try #require(files.readCPUSamples(aggregatesOnly: true)).rows == [Self.aggregate])
    let hostSide = try #require(files.readHostSide())
    #expect(hostSide.rows == [Self.thread])
    #expect(
      try String(contentsOf: files.hostSide, encoding: .utf8)
        == HostSideRow.header + "\n" + Self.thread.line + "\n")
    #expect(CellFiles(directory.appendingPathComponent("none")).readHostSide() == nil)
  }
}
