import Formats
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Durable file-system operations for the session directory, with POSIX calls so every step is
/// checked: atomic replacement that survives a power cut (temporary file in the same folder,
/// `fsync`, `rename`, `fsync` of the folder), exclusive creation, folder creation with a mode.
enum DurableFile {
    /// The prefix of temporary files; a name starting with it is never a session file.
    static let temporaryPrefix = ".tmp-"

    /// Replaces `path` with `data` atomically and durably: readers see the old or the new
    /// contents, never a mixture, and after return the new contents survive a crash. The file
    /// gets `mode` (0600 by default). On failure the temporary file is removed.
    static func replace(path: String, with data: Data, mode: mode_t = 0o600) throws(FileFormatError) {
        let directory = Self.directory(of: path)
        let name = (path as NSString).lastPathComponent
        var random = SystemRandomNumberGenerator()
        let temporary = (directory as NSString).appendingPathComponent(
            "\(Self.temporaryPrefix)\(name)-\(String(random.next() as UInt64, radix: 16))")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw Self.failure(path, "cannot create a temporary file in \(quoted(directory))") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw Self.failure(path, "cannot set the file mode") }
            try Self.writeAll(fd, data, path: path)
            guard fsync(fd) == 0 else { throw Self.failure(path, "cannot flush the file to disk") }
        }
        guard rename(temporary, path) == 0 else { throw Self.failure(path, "cannot replace the file") }
        ok = true
        try Self.syncDirectory(directory, for: path)
    }

    /// Creates `path` exclusively (it must not exist) with `mode`, writes `data` and flushes it and
    /// its folder. Returns false, writing nothing, when the file already exists.
    static func createExclusive(path: String, data: Data, mode: mode_t) throws(FileFormatError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw Self.failure(path, "cannot create the file")
        }
        var ok = false
        defer {
            if !ok { unlink(path) }
        }
        do {
            defer { close(fd) }
            guard fchmod(fd, mode) == 0 else { throw Self.failure(path, "cannot set the file mode") }
            try Self.writeAll(fd, data, path: path)
            guard fsync(fd) == 0 else { throw Self.failure(path, "cannot flush the file to disk") }
        }
        ok = true
        try Self.syncDirectory(Self.directory(of: path), for: path)
        return true
    }

    /// Creates a folder and any missing parents; the folder itself gets `mode` (set explicitly,
    /// so the umask cannot widen or narrow it). Returns false when it already existed.
    static func createDirectory(_ path: String, mode: mode_t) throws(FileFormatError) -> Bool {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw FileFormatError(file: path, message: "exists but is not a folder") }
            return false
        }
        let parent = Self.directory(of: path)
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw FileFormatError(file: path, message: "cannot create the parent folder \(quoted(parent))")
        }
        guard mkdir(path, mode) == 0 else { throw Self.failure(path, "cannot create the folder") }
        guard chmod(path, mode) == 0 else { throw Self.failure(path, "cannot set the folder's mode") }
        try Self.syncDirectory(parent, for: path)
        return true
    }

    /// `open(path, O_RDONLY | O_NOFOLLOW)`: a file descriptor, or −1 with `errno` set (`ELOOP`
    /// for a symbolic link).
    static func openForReading(_ path: String) -> Int32 {
        open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    }

    static func directory(of path: String) -> String {
        let d = (path as NSString).deletingLastPathComponent
        return d.isEmpty ? "." : d
    }

    private static func writeAll(_ fd: Int32, _ data: Data, path: String) throws(FileFormatError) {
        let bytes = [UInt8](data)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.failure(path, "cannot write the file")
            }
            written += n
        }
    }

    private static func syncDirectory(_ directory: String, for path: String) throws(FileFormatError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure(path, "cannot open the folder \(quoted(directory)) to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Self.failure(path, "cannot flush the folder \(quoted(directory)) to disk") }
    }

    /// An error naming `path`, with `what` and the C library's reason for the current `errno`.
    static func failure(_ path: String, _ what: String) -> FileFormatError {
        let reason = String(cString: strerror(errno)).lowercased()
        return FileFormatError(file: path, message: "\(what): \(reason)")
    }
}
