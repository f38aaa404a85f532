import Formats
import Foundation
import Geometry

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The session directory of `coilnav serve`: what a restarted server needs to resume.
///
/// ```text
/// SESSION/            mode 0700
///   session.json      coilnav-session v1: plan, active target, coil calibration, captured
///                     fiducials and scalp points (SessionState), replaced atomically on every change
///   registration.json coilnav-registration v1: the accepted registration (when registered)
///   pulses.jsonl      pulse log, appended by the pulse recorder (name reserved here)
///   token             the API token: 64 hex characters, mode 0600
///   captures/         raw captures, written by whoever records them (name reserved here)
/// ```
///
/// Every change is written before the call returns: to a temporary file in the same folder,
/// flushed, renamed over the old file, and the folder flushed. Safe to share between threads.
public final class SessionStore: @unchecked Sendable {
    public static let stateFileName = "session.json"
    public static let registrationFileName = "registration.json"
    public static let pulsesFileName = "pulses.jsonl"
    public static let tokenFileName = "token"
    public static let capturesDirectoryName = "captures"

    /// The session folder, as given to `open`.
    public let directory: String
    public var statePath: String { self.path(Self.stateFileName) }
    public var registrationPath: String { self.path(Self.registrationFileName) }
    public var pulsesPath: String { self.path(Self.pulsesFileName) }
    public var tokenPath: String { self.path(Self.tokenFileName) }
    public var capturesDirectory: String { self.path(Self.capturesDirectoryName) }
    /// True when `open` found an existing session (a restart), false when it created one.
    public let resumed: Bool

    private let lock = NSLock()
    private var current: SessionState
    private var token: String?

    private init(directory: String, state: SessionState, resumed: Bool) {
        self.directory = directory
        self.current = state
        self.resumed = resumed
    }

    /// Runs `body` holding the lock (`NSLock.withLock` cannot pass a typed error through).
    private func locked<T>(_ body: () throws(FileFormatError) -> T) throws(FileFormatError) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body()
    }

    private func path(_ name: String) -> String { (self.directory as NSString).appendingPathComponent(name) }

    /// Opens a session folder: resumes the session in it (`session.json` and, when it names one,
    /// `registration.json` are read and checked), or, with `createIfMissing`, creates the folder
    /// (mode 0700, parents as needed) and a new `session.json` stamped `createdAt`.
    ///
    /// Errors name the file at fault (and for malformed files the line, column and field): a
    /// missing folder or `session.json` without `createIfMissing`, a corrupt file, a registration
    /// file that is missing although `session.json` names it.
    public static func open(directory: String, createIfMissing: Bool, createdAt: Date = Date()) throws(FileFormatError) -> SessionStore {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: directory, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue { throw FileFormatError(file: directory, message: "exists but is not a folder") }
        let statePath = (directory as NSString).appendingPathComponent(Self.stateFileName)
        if exists && fm.fileExists(atPath: statePath) {
            let (state, registered) = try SessionState.parse(try FileAccess.read(path: statePath), source: statePath)
            var resumedState = state
            if registered {
                resumedState.registration = try RegistrationRecord.load(
                    path: (directory as NSString).appendingPathComponent(Self.registrationFileName))
            }
            return SessionStore(directory: directory, state: resumedState, resumed: true)
        }
        guard createIfMissing else {
            throw FileFormatError(
                file: exists ? statePath : directory,
                message: exists ? "no session here (the folder has no \(Self.stateFileName))" : "no such session folder")
        }
        if !exists { _ = try DurableFile.createDirectory(directory, mode: 0o700) }
        let store = SessionStore(directory: directory, state: SessionState(createdAt: Self.timestamp(createdAt)), resumed: false)
        try store.save(store.current)
        return store
    }

    /// `date` as an ISO 8601 date-time in UTC (`2026-11-22T02:40:42Z`).
    public static func timestamp(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }

    // MARK: State

    /// Everything the session has recorded, as of the last change.
    public var state: SessionState { self.lock.withLock { self.current } }

    /// Records the plan file in use.
    public func setPlanPath(_ path: String?) throws(FileFormatError) {
        try self.update { $0.planPath = path }
    }

    /// Records the active target (nil: none).
    public func setActiveTarget(_ name: String?) throws(FileFormatError) {
        try self.update { $0.activeTarget = name }
    }

    /// Records the coil calibration file in use (nil: the identity).
    public func setCoilCalibrationPath(_ path: String?) throws(FileFormatError) {
        try self.update { $0.coilCalibrationPath = path }
    }

    /// Accepts a registration: writes `registration.json` (atomically), then `session.json`
    /// naming it. A crash in between leaves the previous `session.json`, which either names no
    /// registration or names the (new) file.
    public func setRegistration(_ record: RegistrationRecord) throws(FileFormatError) {
        let path = self.registrationPath
        try self.locked { () throws(FileFormatError) in
            try DurableFile.replace(path: path, with: try record.serialized(destination: path))
            var next = self.current
            next.registration = record
            try self.save(next)
            self.current = next
        }
    }

    /// Forgets the registration: `session.json` no longer names one, then `registration.json` is
    /// removed.
    public func clearRegistration() throws(FileFormatError) {
        let path = self.registrationPath
        try self.locked { () throws(FileFormatError) in
            var next = self.current
            next.registration = nil
            try self.save(next)
            self.current = next
            if unlink(path) != 0 && errno != ENOENT { throw DurableFile.failure(path, "cannot remove the file") }
        }
    }

    /// Records a captured fiducial; one with the same name is replaced in place (re-capture).
    public func addCapturedFiducial(_ fiducial: CapturedFiducial) throws(FileFormatError) {
        if isBlank(fiducial.name) {
            throw FileFormatError(file: self.statePath, field: "fiducials", message: "a captured fiducial needs a name")
        }
        if fiducial.sampleCount < 1 {
            throw FileFormatError(
                file: self.statePath, field: "fiducials", message: "sampleCount must be at least 1, got \(fiducial.sampleCount)")
        }
        try self.update {
            if let i = $0.capturedFiducials.firstIndex(where: { $0.name == fiducial.name }) {
                $0.capturedFiducials[i] = fiducial
            } else {
                $0.capturedFiducials.append(fiducial)
            }
        }
    }

    /// Forgets every captured fiducial.
    public func clearCapturedFiducials() throws(FileFormatError) {
        try self.update { $0.capturedFiducials.removeAll() }
    }

    /// Records scalp points (head-reference space, mm), appended in order.
    public func addScalpPoints(_ points: [Vector3]) throws(FileFormatError) {
        try self.update { $0.scalpPoints.append(contentsOf: points) }
    }

    /// Records one scalp point (head-reference space, mm).
    public func addScalpPoint(_ point: Vector3) throws(FileFormatError) {
        try self.addScalpPoints([point])
    }

    /// Forgets every scalp point.
    public func clearScalpPoints() throws(FileFormatError) {
        try self.update { $0.scalpPoints.removeAll() }
    }

    /// Applies a change and writes it; on failure the state in memory is left as it was.
    private func update(_ change: (inout SessionState) -> Void) throws(FileFormatError) {
        try self.locked { () throws(FileFormatError) in
            var next = self.current
            change(&next)
            try self.save(next)
            self.current = next
        }
    }

    private func save(_ state: SessionState) throws(FileFormatError) {
        let path = self.statePath
        try DurableFile.replace(path: path, with: try state.serialized(destination: path))
    }

    // MARK: Token

    /// The session's API token: created on first use (`token`, mode 0600, created with
    /// `O_CREAT | O_EXCL`, 32 bytes from `SystemRandomNumberGenerator` as 64 lowercase hex
    /// characters, no newline), read back when it exists. An existing token file that group or
    /// others may read or write, that is not a regular file, that belongs to another user or that
    /// does not hold 64 hex characters is refused.
    public func ensureToken() throws(FileFormatError) -> String {
        try self.locked { () throws(FileFormatError) -> String in
            if let t = self.token { return t }
            let path = self.tokenPath
            var generator = SystemRandomNumberGenerator()
            var bytes: [UInt8] = []
            for _ in 0..<4 {
                let word: UInt64 = generator.next()
                for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * k))) }
            }
            let fresh = bytes.map { Self.hexDigits[Int($0 >> 4)] + Self.hexDigits[Int($0 & 0xF)] }.joined()
            let token: String
            if try DurableFile.createExclusive(path: path, data: Data(fresh.utf8), mode: 0o600) {
                token = fresh
            } else {
                token = try Self.readExistingToken(path)
            }
            self.token = token
            return token
        }
    }

    /// True when `candidate` is the session's token. The comparison takes the same time wherever
    /// the first difference is. False when no token has been made or read yet (`ensureToken`).
    public func tokenMatches(_ candidate: String) -> Bool {
        guard let token = self.lock.withLock({ self.token }) else { return false }
        return Self.constantTimeEquals(candidate, token)
    }

    /// Compares two strings' UTF-8 bytes in time that depends only on their lengths.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        let n = Swift.max(x.count, y.count)
        for i in 0..<n {
            let p = i < x.count ? x[i] : 0
            let q = i < y.count ? y[i] : 0
            difference |= p ^ q
        }
        return difference == 0
    }

    private static let hexDigits = (0..<16).map { String($0, radix: 16) }

    private static func readExistingToken(_ path: String) throws(FileFormatError) -> String {
        let fd = DurableFile.openForReading(path)
        guard fd >= 0 else {
            if errno == ELOOP { throw FileFormatError(file: path, message: "is a symbolic link; the token must be a plain file") }
            throw DurableFile.failure(path, "cannot read the token")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DurableFile.failure(path, "cannot read the token's permissions") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw FileFormatError(file: path, message: "is not a regular file") }
        guard info.st_uid == geteuid() else {
            throw FileFormatError(file: path, message: "belongs to user \(info.st_uid), not to this user (\(geteuid())); refusing to use it")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw FileFormatError(
                file: path,
                message: "group or others may read or write the token (mode 0\(String(mode, radix: 8))); run chmod 600 on it, or delete it to make a new token")
        }
        let capacity = 129
        var buffer = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while count < capacity {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, capacity - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DurableFile.failure(path, "cannot read the token")
            }
            if n == 0 { break }
            count += n
        }
        var text = String(decoding: buffer[0..<count], as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard text.utf8.count == 64, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw FileFormatError(
                file: path, message: "expected 64 lowercase hexadecimal characters; delete the file to make a new token")
        }
        return text
    }
}
