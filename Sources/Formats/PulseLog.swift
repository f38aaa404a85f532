import Foundation

import Glibc

/// The contents of a pulse log (`pulses.jsonl`), parsed without touching the file.
///
/// Layout: a header line `{"format":"coilnav-pulses","version":1}`, then one `PulseRecord` line
/// per pulse (see `PulseRecord.jsonLine`), every line ending in `\n`, indices strictly increasing.
public struct PulseLogContents: Equatable, Sendable {
    /// The value of the header's `format` field.
    public static let format = "coilnav-pulses"
    /// The newest version this code reads, and the version it writes.
    public static let currentVersion = 1
    /// The header line as written (with its `\n`).
    public static let headerLine = "{\"format\":\"\(format)\",\"version\":\(currentVersion)}\n"

    public var records: [PulseRecord]
    /// Set when the file ended in a line without `\n` (a crash while a line was written). That
    /// line is not read; `validLength` is where it starts.
    public var tornLastLine: FileFormatError?
    /// Bytes up to and including the last `\n` (the length the file is cut back to on open).
    public var validLength: Int

    /// Parses a whole log. An empty file is a log without pulses and without header (a crash
    /// right after creation). A last line without `\n` is reported in `tornLastLine`, not thrown;
    /// any other bad line is an error naming `source`, the line and the field.
    public static func parse(_ data: Data, source: String) throws(FileFormatError) -> PulseLogContents {
        let bytes = [UInt8](data)
        var lines: [(start: Int, end: Int)] = []
        var start = 0
        for (k, b) in bytes.enumerated() where b == 0x0A {
            lines.append((start, k))
            start = k + 1
        }
        var torn: FileFormatError? = nil
        if start < bytes.count {
            torn = FileFormatError(
                file: source, location: .line(lines.count + 1, column: nil),
                message: "the last line is incomplete (\(bytes.count - start) bytes without a final newline; a crash while writing?); it was not read")
        }
        var records: [PulseRecord] = []
        for (i, line) in lines.enumerated() {
            let lineNumber = i + 1
            let text = Data(bytes[line.start..<line.end])
            if i == 0 {
                try Self.checkHeader(text, source: source)
                continue
            }
            let record = try PulseRecord.parse(line: text, source: source, lineNumber: lineNumber)
            if let last = records.last, record.index <= last.index {
                throw FileFormatError(
                    file: source, location: .line(lineNumber, column: nil), field: "index",
                    message: "pulse indices must increase: \(record.index) follows \(last.index)")
            }
            records.append(record)
        }
        return PulseLogContents(records: records, tornLastLine: torn, validLength: start)
    }

    /// Reads a log without changing it (for exports): a torn last line is left in the file and
    /// reported in `tornLastLine`.
    public static func read(path: String) throws(FileFormatError) -> PulseLogContents {
        try Self.parse(try FileAccess.read(path: path), source: path)
    }

    private static func checkHeader(_ line: Data, source: String) throws(FileFormatError) {
        do {
            let document = try JSONDocument.parse(line, source: source)
            let root = try document.rootField.object()
            try VersionedFile.checkHeader(root, format: Self.format, supportedVersion: Self.currentVersion, kind: "pulse log")
            try root.rejectUnknownKeys(["format", "version"])
        } catch {
            var e = error
            if case .line(_, let column) = e.location { e.location = .line(1, column: column) }
            throw e
        }
    }
}

/// A durable, append-only pulse log (`pulses.jsonl` in a session directory).
///
/// `open(path:)` creates the file (writing the header) or reads the pulses already in it. A last
/// line without its `\n` — a crash in the middle of a write — is cut off and reported in
/// `recoveredWarning`; a bad line anywhere else makes `open` fail with its line number.
/// `append(_:)` writes each line with a single `write(2)` and then `fsync(2)`s the file before it
/// returns, so a pulse that was appended survives a crash or power loss.
///
/// **Not thread-safe**: one thread (the server's) owns a `PulseLog`; it is not `Sendable`. Only one
/// `PulseLog` (one process) should have a given file open for appending.
public final class PulseLog {
    public let path: String
    /// Every pulse in the log, in file order (the existing ones, then those appended).
    public private(set) var records: [PulseRecord]
    /// What `open` repaired: the torn last line it cut off, if there was one.
    public let recoveredWarning: FileFormatError?
    private var fd: Int32
    private var length: Int

    private init(path: String, fd: Int32, records: [PulseRecord], length: Int, warning: FileFormatError?) {
        self.path = path
        self.fd = fd
        self.records = records
        self.length = length
        self.recoveredWarning = warning
    }

    deinit { self.close() }

    /// Opens the log at `path`, creating it (mode 0644, with its header) if it does not exist. The
    /// path must name a regular file (not a device or a pipe).
    public static func open(path: String) throws(FileFormatError) -> PulseLog {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.systemError(path, "cannot open the pulse log") }
        do throws(FileFormatError) {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw Self.systemError(path, "cannot open the pulse log") }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw FileFormatError(file: path, message: "cannot open the pulse log: not a regular file")
            }
            var contents = try PulseLogContents.parse(try Self.readAll(fd: fd, path: path), source: path)
            if contents.tornLastLine != nil {
                guard ftruncate(fd, off_t(contents.validLength)) == 0 else {
                    throw Self.systemError(path, "cannot cut off the incomplete last line")
                }
                guard fsync(fd) == 0 else { throw Self.systemError(path, "cannot fsync after cutting off the incomplete last line") }
            }
            var length = contents.validLength
            if length == 0 {
                // A new file (or one that crashed before its header was complete).
                try Self.writeLine(PulseLogContents.headerLine, fd: fd, path: path, length: length)
                length += PulseLogContents.headerLine.utf8.count
                Self.syncDirectory(of: path)
                contents.records = []
            }
            return PulseLog(path: path, fd: fd, records: contents.records, length: length, warning: contents.tornLastLine)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    /// Appends one pulse durably: one `write(2)` of the whole line, then `fsync(2)`. On failure
    /// the file is cut back to its previous length (best effort) and the error names the path and
    /// the errno text; the pulse is then not in `records`. The pulse's index must be greater than
    /// the last one's, and the record must keep `PulseRecord`'s rules.
    public func append(_ record: PulseRecord) throws(FileFormatError) {
        guard self.fd >= 0 else { throw FileFormatError(file: self.path, message: "the pulse log is closed") }
        if let last = self.records.last, record.index <= last.index {
            throw FileFormatError(
                file: self.path, field: "pulse \(record.index).index", message: "pulse indices must increase: \(record.index) follows \(last.index)")
        }
        let line = try record.jsonLine(destination: self.path)
        try Self.writeLine(line, fd: self.fd, path: self.path, length: self.length)
        self.length += line.utf8.count
        self.records.append(record)
    }

    /// Closes the file; later appends fail. Called by `deinit` too.
    public func close() {
        if self.fd >= 0 {
            _ = Glibc.close(self.fd)
            self.fd = -1
        }
    }

    private static func writeLine(_ line: String, fd: Int32, path: String, length: Int) throws(FileFormatError) {
        let bytes = Array(line.utf8)
        var written: Int
        repeat {
            written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        } while written < 0 && errno == EINTR
        if written != bytes.count {
            let error = written < 0
                ? Self.systemError(path, "cannot write the pulse")
                : FileFormatError(file: path, message: "cannot write the pulse: only \(written) of \(bytes.count) bytes were written (disk full?)")
            _ = ftruncate(fd, off_t(length))
            throw error
        }
        guard fsync(fd) == 0 else {
            let error = Self.systemError(path, "cannot fsync the pulse")
            _ = ftruncate(fd, off_t(length))
            throw error
        }
    }

    private static func readAll(fd: Int32, path: String) throws(FileFormatError) -> Data {
        guard lseek(fd, 0, SEEK_SET) >= 0 else { throw Self.systemError(path, "cannot read the pulse log") }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.systemError(path, "cannot read the pulse log")
            }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        return data
    }

    /// Makes the new file's directory entry durable (best effort).
    private static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let dfd = Glibc.open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            _ = Glibc.close(dfd)
        }
    }

    private static func systemError(_ path: String, _ what: String) -> FileFormatError {
        let code = errno
        return FileFormatError(file: path, message: "\(what): \(String(cString: strerror(code))) (errno \(code))")
    }
}
