import Foundation

/// What a finished child process printed, and its exit status.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a program to completion. Both pipes are drained while it runs, so a large output
/// cannot fill a pipe and stall the child.
public func runProcess(
    _ executable: URL, _ arguments: [String], environment: [String: String]? = nil, currentDirectory: URL? = nil
) throws -> ProcessResult {
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    if let environment { p.environment = environment }
    if let currentDirectory { p.currentDirectoryURL = currentDirectory }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return ProcessResult(
        status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// A Python that can `import` every module given: `$COILNAV_PYTHON`, or the `.venv-ci` that
/// `.ci/run` creates in the package root; nil when neither can.
public func pythonInterpreter(importing modules: [String], packageRoot: URL) -> String? {
    let candidates = [
        ProcessInfo.processInfo.environment["COILNAV_PYTHON"],
        packageRoot.appendingPathComponent(".venv-ci/bin/python").path,
    ].compactMap { $0 }
    for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
        let r = try? runProcess(
            URL(fileURLWithPath: candidate), ["-c", modules.map { "import \($0)" }.joined(separator: "; ")])
        if r?.status == 0 { return candidate }
    }
    return nil
}
