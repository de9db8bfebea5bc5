import ArgumentParser
import Experiments

extension Shard: ExpressibleByArgument {
  public init?(argument: String) {
    self.init(parsing: argument)
  }
}
