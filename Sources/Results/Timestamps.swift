import Foundation

/// The form of the moments a run records (`startedAt`, `endedAt`, `createdAt`): ISO 8601
/// in UTC with fractional seconds, as the manifest, the cell summaries, a merge and a
/// Slurm submission write them.
package enum Timestamps {
  /// `date` as the results store writes it (`2025-09-30T12:00:00.123Z`).
  package static func iso(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }
}
