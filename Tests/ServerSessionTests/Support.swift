import Formats
import Foundation
import Geometry

/// The repository's root folder (for the shipped data files).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

func repositoryPath(_ relative: String) -> String { (repositoryRoot as NSString).appendingPathComponent(relative) }

/// The error a throwing call fails with, or `nil` when it succeeds.
func formatError<T>(_ body: () throws(FileFormatError) -> T) -> FileFormatError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A fresh, empty folder under the system's temporary folder, removed by `cleanUp()`.
struct ScratchFolder {
    let path: String

    init() throws {
        self.path = (NSTemporaryDirectory() as NSString).appendingPathComponent("coilnav-session-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> String { (self.path as NSString).appendingPathComponent(name) }

    func cleanUp() { try? FileManager.default.removeItem(atPath: self.path) }
}

/// The largest absolute difference between two transforms' 4×4 matrices.
func maxDifference(_ a: RigidTransform, _ b: RigidTransform) -> Double {
    var d = 0.0
    for (ra, rb) in zip(a.matrix4x4, b.matrix4x4) {
        for (x, y) in zip(ra, rb) { d = max(d, abs(x - y)) }
    }
    return d
}

/// `st_mode & 0o777` of a path.
func permissions(_ path: String) -> UInt32 {
    var info = stat()
    guard stat(path, &info) == 0 else { return 0xFFFF_FFFF }
    return UInt32(info.st_mode & 0o777)
}

/// A counter several threads may increment.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { self.lock.withLock { self.count += 1 } }
    var value: Int { self.lock.withLock { self.count } }
}
