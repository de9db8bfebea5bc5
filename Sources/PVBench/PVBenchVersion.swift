/// The version every pvbench binary reports; agents refuse a controller of another version.
enum PVBenchVersion {
  static let current = "0.1.0"
}
