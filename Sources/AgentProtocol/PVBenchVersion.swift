/// The version every pvbench binary reports; agents refuse a controller of another version.
package enum PVBenchVersion {
  package static let current = "0.1.0"
}
