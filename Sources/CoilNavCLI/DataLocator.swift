import Foundation

/// Finds CoilNav's data folders (`Mock/`, `Calibration/`, `Devices/`) so commands have sensible
/// defaults when run from a checkout or an installed copy.
///
/// Order: `$COILNAV_HOME`, then the current directory and its parents, then the executable's
/// directory and its parents (covers `.build/debug/coilnav` inside a checkout).
enum DataLocator {
    static func root() -> URL? {
        let fm = FileManager.default
        func isRoot(_ u: URL) -> Bool {
            fm.fileExists(atPath: u.appendingPathComponent("Mock/demo/scalp.ply").path)
        }
        if let home = ProcessInfo.processInfo.environment["COILNAV_HOME"], !home.isEmpty {
            let u = URL(fileURLWithPath: home)
            if isRoot(u) { return u }
        }
        var starts = [URL(fileURLWithPath: fm.currentDirectoryPath)]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        starts.append(exe)
        for start in starts {
            var u = start.standardizedFileURL
            for _ in 0..<8 {
                if isRoot(u) { return u }
                let parent = u.deletingLastPathComponent()
                if parent.path == u.path { break }
                u = parent
            }
        }
        return nil
    }

    /// A path inside the data root, or an error telling the user how to point at it.
    static func path(_ relative: String) throws -> String {
        guard let r = root() else {
            throw CLIError("cannot find CoilNav's data folder (looking for Mock/demo/scalp.ply); run from the repository or set COILNAV_HOME")
        }
        return r.appendingPathComponent(relative).path
    }
}

/// An error for the command line: printed on stderr as `coilnav: <message>`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { self.message }
}
