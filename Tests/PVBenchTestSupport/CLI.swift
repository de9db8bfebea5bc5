import Foundation

/// Runs the built `pvbench` binary and captures its whole output.
public struct CLI {
  public struct Result: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
  }

  /// The test build of `pvbench` next to the test bundle (same build folder): the same
  /// commands with the fake kernel and the crash injector installed (Tests/pvbench-testing).
  public static var binary: URL { built("pvbench-testing") }

  /// The release-shaped `pvbench` itself, without test doubles.
  public static var pvbench: URL { built("pvbench") }

  private static func built(_ name: String) -> URL {
    var dir = Bundle.main.bundleURL
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path),
      dir.path != "/"
    {
      dir.deleteLastPathComponent()
    }
    return dir.appendingPathComponent(name)
  }

  /// The package root, for experiment files and fixtures.
  public static var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// Runs `pvbench arguments…` with a time limit and returns status, stdout and stderr.
  public static func run(
    _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
    timeout: TimeInterval = 120, currentDirectory: URL? = nil, binary: URL = CLI.binary
  ) throws -> Result {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = currentDirectory ?? packageRoot
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try? input.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      group.wait()
    }
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

/// A `pvbench` process started in the background, for tests that signal it mid-run.
public final class RunningCLI: @unchecked Sendable {
  public let process = Process()
  private let out = Pipe()
  private let err = Pipe()
  private var outData = Data()
  private var errData = Data()
  private let group = DispatchGroup()

  public init(_ arguments: [String], currentDirectory: URL? = nil) throws {
    process.executableURL = CLI.binary
    process.arguments = arguments
    process.currentDirectoryURL = currentDirectory ?? CLI.packageRoot
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    group.enter()
    DispatchQueue.global().async { [self] in
      outData = out.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
    group.enter()
    DispatchQueue.global().async { [self] in
      errData = err.fileHandleForReading.readDataToEndOfFile()
      group.leave()
    }
  }

  /// Sends `signal` to the process.
  public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

  /// Waits at most `timeout` seconds (then kills it) and returns the whole output.
  public func wait(timeout: TimeInterval) -> CLI.Result {
    if group.wait(timeout: .now() + timeout) == .timedOut {
      process.terminate()
      group.wait()
    }
    process.waitUntilExit()
    return CLI.Result(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self))
  }
}

extension CLI {
  /// Runs a shell command (for checks such as `pgrep`) and returns its trimmed output.
  public static func shell(_ command: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
