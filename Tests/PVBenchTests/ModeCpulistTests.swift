import Experiments
import LinuxHost
import Testing
import Vocabulary

@Suite struct CpulistTests {
  @Test(arguments: [
    ("0-3,8", [0, 1, 2, 3, 8]), ("", []), ("5", [5]), ("0-1,1-2", [0, 1, 2]), (" 2,0 \n", [0, 2]),
  ])
  func parses(text: String, cpus: [Int]) {
    #expect(CPUSet.cpus(parsing: text) == cpus)
  }

  @Test(arguments: ["a", "3-1", "-1", "1,,2", "0-", "1-2-3"])
  func rejects(text: String) {
    #expect(CPUSet.cpus(parsing: text) == nil)
  }

  @Test func formatsRanges() {
    #expect(CPUSet.format([8, 0, 1, 2, 3, 5]) == "0-3,5,8")
    #expect(CPUSet.format([]) == "")
    #expect(CPUSet.format([7]) == "7")
  }

  @Test func nonEntitledTakesWholeCoresHighestFirst() {
    let cores = [[0, 1], [2, 3], [4, 5], [6, 7]]
    #expect(CPUSelection.nonEntitled.resolve(cores: cores, entitledCores: 2) == [7, 6, 5, 4])
    #expect(CPUSelection.nonEntitled.resolve(cores: cores, entitledCores: 4) == [])
    #expect(CPUSelection.nonEntitled.resolve(cores: cores, entitledCores: nil) == nil)
    #expect(CPUSelection.all.resolve(cores: cores, entitledCores: nil) == [7, 6, 5, 4, 3, 2, 1, 0])
    #expect(CPUSelection("0-2") == .list([0, 1, 2]))
    #expect(CPUSelection("bogus") == nil)
  }
}
