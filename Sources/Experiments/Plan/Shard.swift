import Foundation

/// The K-th of N shards of a plan (`--shard K/N`), 1-based.
package struct Shard: Sendable, Equatable, Codable, CustomStringConvertible {
  package var index: Int
  package var count: Int

  package init(index: Int, count: Int) {
    self.index = index
    self.count = count
  }

  /// Parses `K/N` with 1 ≤ K ≤ N; nil otherwise.
  package init?(parsing text: String) {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]),
      count >= 1, (1...count).contains(index)
    else { return nil }
    self.init(index: index, count: count)
  }

  package var description: String { "\(index)/\(count)" }
}

extension ExperimentPlan {
  /// The plan's (point, repetition) groups in run order, each with every mode's cell.
  ///
  /// A shard holds whole groups, so each shard compares the modes under the same
  /// conditions, as the interleaved order of one run does.
  package var groups: [[Cell]] {
    var groups: [[Cell]] = []
    for cell in cells {
      if let last = groups.last?.last, last.pointIndex == cell.pointIndex,
        last.repetition == cell.repetition
      {
        groups[groups.count - 1].append(cell)
      } else {
        groups.append([cell])
      }
    }
    return groups
  }

  /// The cells of `shard`, in plan order: groups are dealt out in turn (group g goes to
  /// shard g mod N), so every shard gets a share of every sweep point when there are
  /// enough repetitions, and the shards take about the same time.
  package func cells(of shard: Shard) -> [Cell] {
    groups.enumerated().filter { $0.offset % shard.count == shard.index - 1 }.flatMap(\.element)
  }

  /// The hash `experimentHash` holds: an id of the experiment as resolved (defaults filled in, every sweep value): two
  /// shards merge only when they ran the same experiment. Host addresses are taken
  /// from the file as written, so the shards of one plan on different testbeds agree.
  package static func hash(of experiment: Experiment) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = (try? encoder.encode(experiment)) ?? Data()
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in data {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01b3
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
  }
}
