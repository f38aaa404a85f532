import Foundation

/// Why a file could not be read or written: the one error type of the `Formats` module.
///
/// It names the file, where in the file the problem is (a 1-based line and optionally column
/// for text formats, or a byte offset from the start of the file for binary formats), which
/// field is wrong, and what is wrong with it. `description` joins them with colons:
///
///     scalp.ply: line 12: vertex 3, field z: expected a number, got "abc"
///     head.stl: byte 684: triangle 12: file ends inside the triangle (needs 50 bytes, 22 left)
///     plan.json: line 30, column 26: targets[2].coilToMRI: the rotation part is not orthonormal …
///
/// Element numbers in field names (`vertex 3`, `triangle 12`, `markups[0]`) count from 0, like
/// the vertex indices of PLY faces and JSON array positions.
public struct FileFormatError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// Where in the file the problem is.
    public enum Location: Equatable, Sendable {
        /// The problem concerns the file as a whole (it cannot be opened, it is empty, …).
        case none
        /// A 1-based line and, when known, a 1-based column counted in characters (Unicode
        /// scalars) from the start of the line.
        case line(Int, column: Int?)
        /// A byte offset from the start of the file (0 is the first byte).
        case byteOffset(Int)
    }

    /// The path or source name the caller gave for the file.
    public var file: String
    /// Where in the file the problem is.
    public var location: Location
    /// The element or field at fault, e.g. `markups[0].controlPoints[2].position`,
    /// `vertex 17`, `face 5 index 2`, `element vertex count`; `nil` when the problem is not
    /// tied to one field.
    public var field: String?
    /// What is wrong, in words.
    public var message: String

    public init(file: String, location: Location = .none, field: String? = nil, message: String) {
        self.file = file
        self.location = location
        self.field = field
        self.message = message
    }

    /// The 1-based line, for errors located by line.
    public var line: Int? {
        if case .line(let l, _) = self.location { return l }
        return nil
    }

    /// The 1-based column, for errors located by line and column.
    public var column: Int? {
        if case .line(_, let c) = self.location { return c }
        return nil
    }

    /// The byte offset, for errors located by byte.
    public var byteOffset: Int? {
        if case .byteOffset(let b) = self.location { return b }
        return nil
    }

    public var description: String {
        var parts = [self.file]
        switch self.location {
        case .none: break
        case .line(let l, nil): parts.append("line \(l)")
        case .line(let l, let c?): parts.append("line \(l), column \(c)")
        case .byteOffset(let b): parts.append("byte \(b)")
        }
        if let f = self.field, !f.isEmpty { parts.append(f) }
        parts.append(self.message)
        return parts.joined(separator: ": ")
    }

    public var errorDescription: String? { self.description }
}

extension FileFormatError {
    /// An error located at a line (and optionally column).
    static func at(_ file: String, line: Int, column: Int? = nil, field: String? = nil, _ message: String) -> FileFormatError {
        FileFormatError(file: file, location: .line(line, column: column), field: field, message: message)
    }

    /// An error located at a byte offset.
    static func at(_ file: String, byte: Int, field: String? = nil, _ message: String) -> FileFormatError {
        FileFormatError(file: file, location: .byteOffset(byte), field: field, message: message)
    }
}

/// Quotes a piece of file content for an error message, shortened if it is long, escaped as
/// a JSON string would be (so control characters stay visible).
package func quoted(_ text: String, limit: Int = 40) -> String {
    let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
    return "\"" + jsonEscaped(shown) + "\""
}
