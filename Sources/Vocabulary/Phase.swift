/// The phase an interval belongs to, as seen from the noise host's edges.
public enum Phase: String, Codable, Sendable, CaseIterable {
  case busy, idle, transition
}
