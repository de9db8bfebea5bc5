import Testing

@testable import PVBenchCLI

@Suite struct ExitStatusTests {
  @Test func documentedCodesAreDistinct() {
    let codes = ExitStatus.allCases.map(\.rawValue)
    #expect(Set(codes).count == codes.count)
    #expect(ExitStatus.invalidInput.rawValue == 2)
  }
}
