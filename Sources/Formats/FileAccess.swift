import Foundation

/// The module's only file-system access: whole-file reads and atomic whole-file writes, with
/// failures reported as `FileFormatError`s naming the path.
package enum FileAccess {
    /// Reads a whole file.
    package static func read(path: String) throws(FileFormatError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw FileFormatError(file: path, message: "cannot read the file: \(Self.reason(error))")
        }
    }

    /// Writes a whole file atomically (a temporary file renamed into place), so a reader never
    /// sees a half-written plan or mesh.
    package static func write(_ data: Data, path: String) throws(FileFormatError) {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FileFormatError(file: path, message: "cannot write the file: \(Self.reason(error))")
        }
    }

    /// A short reason for a Foundation file error ("no such file", "permission denied").
    private static func reason(_ error: any Error) -> String {
        guard let cocoa = error as? CocoaError else { return error.localizedDescription }
        switch cocoa.code {
        case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "the volume is read-only"
        default: return cocoa.localizedDescription
        }
    }
}
