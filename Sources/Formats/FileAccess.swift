import Foundation

/// The module's only file-system access: whole-file reads and atomic whole-file writes, with
/// failures reported as `FileFormatError`s naming the path.
enum FileAccess {
    /// Reads a whole file.
    static func read(path: String) throws(FileFormatError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileFormatError(file: path, message: "cannot read the file: \(Self.reason(error))")
        }
    }

    /// Writes a whole file atomically (a temporary file renamed into place), so a reader never
    /// sees a half-written plan or mesh.
    static func write(_ data: Data, path: String) throws(FileFormatError) {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileFormatError(file: path, message: "cannot write the file: \(Self.reason(error))")
        }
    }

    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
            let code = POSIXErrorCode(rawValue: Int32(underlying.code))
        {
            return String(cString: strerror(code.rawValue))
        }
        return error.localizedDescription
    }
}
