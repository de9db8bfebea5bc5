import Foundation
import Results
import Testing

@testable import Report

/// The governor table's figures from a hand-made timeline whose answers are worked out
/// below, and the table itself.
@Suite struct GovernorFiguresTests {
  static let second: UInt64 = 1_000_000_000

  static func edge(_ seconds: Double, _ phase: String) -> EventRecord {
    EventRecord(
      timeNanoseconds: UInt64(seconds * 1e9), host: "lpar2", kind: .phaseEdge, detail: phase,
      milliseconds: 0)
  }

  static func decision(_ seconds: Double, _ cpus: String) -> EventRecord {
    EventRecord(
      timeNanoseconds: UInt64(seconds * 1e9), host: "lpar1", kind: .governor,
      detail: "steal: avoid \(cpus)", cpus: cpus)
  }

  /// lpar1: 4 CPUs, 2 entitled, one thread per core; busy intervals at even seconds with
  /// 12.5 % steal. Busy edges at 0 s and 8 s, an idle edge at 4 s, the end at 12 s. The
  /// governor folds CPU 3 at 0.5 s, CPUs 2-3 at 1.5 s, unfolds to 3 at 5 s, to none at
  /// 6 s, and folds CPU 3 again at 9 s.
  static func governorRun() throws -> URL {
    let modes = [
      ModeRecord(id: "out-of-box", kind: .outOfBox, label: "Out of Box"),
      ModeRecord(id: "governor", kind: .governor, label: "governor 5/2"),
    ]
    let events = [
      edge(0, "busy"), decision(0.5, "3"), decision(1.5, "2-3"), edge(4, "idle"),
      decision(5, "3"), decision(6, ""), edge(8, "busy"), decision(9, "3"), edge(12, "end"),
    ]
    let cells = [
      SyntheticStore.Cell(
        id: "out-of-box-r1", modeID: "out-of-box", repetition: 1, busy: SyntheticStore.ramp(1)),
      SyntheticStore.Cell(
        id: "governor-r1", modeID: "governor", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: events),
    ]
    return try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
  }

  @Test func figuresFollowTheTimeline() throws {
    let run = try Self.governorRun()
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    // Only the governor mode gets figures.
    #expect(analysis.governor.map(\.key.modeID) == ["governor"])
    let summary = try #require(analysis.governor.first)
    // Five decisions in 12 s of intervals.
    #expect(abs(summary.movesPerMinute - 25) < 1e-9)
    // Busy edges: folds 0.5 s and 1 s after them; the idle edge: an unfold after 1 s.
    #expect(summary.busyReactionSeconds == 0.75)
    #expect(summary.busyReacted == 2 && summary.busyEdges == 2)
    #expect(summary.idleReactionSeconds == 1)
    #expect(summary.idleReacted == 1 && summary.idleEdges == 1)
    // Idle from 4 s to 8 s; a core stays folded until 6 s.
    #expect(summary.foldedWhileIdle == 0.5)
    // Busy intervals centred at 0.5, 2.5, … 10.5 s: with CPUs 2-3 avoided (2.5 s and
    // 4.5 s) 2 × 0.875 = 1.75 CPUs are left, below the 2 entitled; otherwise 2.625 or 3.5.
    #expect(summary.busyIntervals == 6)
    #expect(abs((summary.belowEntitlement ?? -1) - 2.0 / 6.0) < 1e-9)
  }

  @Test func tableFitsAnEmailAndSaysWhatItMeasures() throws {
    let run = try Self.governorRun()
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    let table = try #require(ReportRenderer(analysis).governorTable())
    let text = table.text()
    #expect(text.contains("governor 5/2"))
    #expect(text.contains("25.0"))
    #expect(text.contains("0.8s 2/2") || text.contains("0.7s 2/2"))
    #expect(text.contains("1.0s 1/1"))
    #expect(text.contains("50.0%"))
    #expect(text.contains("33.3%"))
    for line in text.split(separator: "\n") { #expect(line.count <= 72, "\(line)") }
    #expect(ReportRenderer(analysis).text().contains("Governor behaviour"))
  }

  /// A busy edge that finds every foldable core folded (4 cores: all but the housekeeping
  /// core 0, past the entitlement as the driver folds) cannot be reacted to, and is not
  /// counted against the governor; an idle edge it ignores is.
  @Test func edgesThatLeaveNothingToDoAreNotCounted() throws {
    let cells = [
      SyntheticStore.Cell(
        id: "governor-r1", modeID: "governor", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: [
          Self.edge(0, "busy"), Self.decision(0.5, "1-3"), Self.edge(4, "idle"),
          Self.edge(8, "busy"), Self.edge(12, "end"),
        ])
    ]
    let modes = [ModeRecord(id: "governor", kind: .governor, label: "governor")]
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
    defer { SyntheticStore.remove(run) }
    let summary = try #require(RunAnalysis.analyze(try RunStore.load(from: run)).governor.first)
    #expect(summary.busyEdges == 1 && summary.busyReacted == 1)
    #expect(summary.idleEdges == 1 && summary.idleReacted == 0)
    #expect(summary.idleReactionSeconds == nil)
    #expect(summary.foldedWhileIdle == 1)
  }

  @Test func aStoreWithoutAvoidedCPUsGetsNoFigures() throws {
    let cells = [
      SyntheticStore.Cell(
        id: "governor-r1", modeID: "governor", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: [
          Self.edge(0, "busy"),
          EventRecord(
            timeNanoseconds: Self.second, host: "lpar1", kind: .governor,
            detail: "steal 9.0%: fold to 1 folded cores"),
        ])
    ]
    let modes = [ModeRecord(id: "governor", kind: .governor, label: "governor")]
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    #expect(analysis.governor.isEmpty)
    #expect(ReportRenderer(analysis).governorTable() == nil)
  }

  /// The kernel's preferred set (`preferred` events) and pvbench's governor's (the set
  /// after each step) in one cell: a row each, figures worked out by hand from the events.
  @Test func preferredTableComparesTheKernelsSetWithTheGovernors() throws {
    func step(_ seconds: Double, _ preferred: String, _ action: String) -> EventRecord {
      EventRecord(
        timeNanoseconds: UInt64(seconds * 1e9), host: "lpar1",
        kind: action == "start" ? .governorStep : .governor, detail: action,
        governor: GovernorStepRecord(action: action, preferred: preferred))
    }
    func kernel(_ seconds: Double, _ cpus: String) -> EventRecord {
      EventRecord(
        timeNanoseconds: UInt64(seconds * 1e9), host: "lpar1", kind: .preferred,
        detail: "", cpus: cpus)
    }
    let events = [
      Self.edge(0, "busy"), step(0, "0-3", "start"), kernel(0, "0-3"), step(0.5, "0-2", "fold"),
      kernel(1, "0-1"), step(1.5, "0-1", "fold"), Self.edge(4, "idle"), step(5, "0-2", "unfold"),
      step(6, "0-3", "unfold"), kernel(7, "0-3"), Self.edge(8, "busy"), step(9, "0-2", "fold"),
      // A second reading of the same set is no change.
      kernel(10, "0,1,2,3"), Self.edge(12, "end"),
    ]
    let cells = [
      SyntheticStore.Cell(
        id: "governor-r1", modeID: "governor", repetition: 1, busy: SyntheticStore.ramp(1),
        extraEvents: events)
    ]
    let modes = [ModeRecord(id: "governor", kind: .governor, label: "governor")]
    let run = try SyntheticStore.write(
      cells, manifest: SyntheticStore.manifest(cells: cells, repetitions: 1, modes: modes))
    defer { SyntheticStore.remove(run) }
    let analysis = RunAnalysis.analyze(try RunStore.load(from: run))
    let table = try #require(ReportRenderer(analysis).preferredTable())
    // 12 s of cell. pvbench: folds at 0.5, 1.5 and 9 s; folded 0.5-4 and 9-12 of the 8 busy (81.25 %, printed 81.2%)
    // seconds, 4-6 of the 4 idle ones. Kernel: one fold at 1 s; folded 1-4 busy, 4-7 idle.
    #expect(
      table.rows == [
        ["governor", "kernel", "5.0", "2/4", "37.5%", "75.0%", "-"],
        ["governor", "pvbench", "15.0", "2/4", "81.2%", "50.0%", "-"],
      ])
    for line in table.text().split(separator: "\n") { #expect(line.count <= 72, "\(line)") }
  }
}
