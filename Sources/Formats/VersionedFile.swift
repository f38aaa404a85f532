import Foundation

/// Checks shared by CoilNav's own JSON files (plans, registrations): the `format` tag and
/// the `version` number come first, so a file from a newer CoilNav is reported as such rather
/// than as a pile of unknown fields.
package enum VersionedFile {
    /// Checks `format` and `version`; `kind` names the file type in messages ("plan").
    package static func checkHeader(
        _ object: JSONObjectFields, format: String, supportedVersion: Int, kind: String
    ) throws(FileFormatError) {
        let formatField = try object.required("format")
        let actual = try formatField.string()
        guard actual == format else {
            throw formatField.error("expected \(quoted(format)), got \(quoted(actual)): this is not a CoilNav \(kind) file")
        }
        let versionField = try object.required("version")
        let version = try versionField.integer()
        guard version >= 1 else {
            throw versionField.error("invalid \(kind) version \(version) (versions start at 1)")
        }
        guard version <= supportedVersion else {
            throw versionField.error(
                "unsupported \(kind) version \(version): this CoilNav reads version \(supportedVersion); the file was written by a newer CoilNav"
            )
        }
    }

    /// True for an RFC 3339 / ISO 8601 internet date-time with a time zone, with or without
    /// fractional seconds: `2025-03-14T09:26:53Z`, `2025-03-14T10:26:53.5+01:00`.
    package static func isTimestamp(_ text: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if formatter.date(from: text) != nil { return true }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) != nil
    }

    /// Reads a timestamp field, checking its form (no clock is read).
    package static func timestamp(_ field: JSONField) throws(FileFormatError) -> String {
        let s = try field.string()
        guard Self.isTimestamp(s) else {
            throw field.error("expected an ISO 8601 date-time with a time zone such as \"2025-03-14T09:26:53Z\", got \(quoted(s))")
        }
        return s
    }

    /// The indices of the first repeated name, if any: (first occurrence, repeat).
    static func firstDuplicate(_ names: [String]) -> (first: Int, repeat: Int)? {
        var seen: [String: Int] = [:]
        for (i, n) in names.enumerated() {
            if let j = seen[n] { return (j, i) }
            seen[n] = i
        }
        return nil
    }

    /// Reading: refuses a repeated name, located at the repeat's field. `what` names the
    /// value ("target name"), `list` the array holding the elements ("targets").
    package static func rejectDuplicates(_ names: [String], fields: [JSONField], what: String, list: String) throws(FileFormatError) {
        if let (first, again) = Self.firstDuplicate(names) {
            throw fields[again].error("duplicate \(what) \(quoted(names[again])) (also \(list)[\(first)])")
        }
    }

    /// Writing: refuses a repeated name, naming the field `list[i].key` of `destination`.
    static func rejectDuplicates(
        _ names: [String], what: String, list: String, key: String, destination: String
    ) throws(FileFormatError) {
        if let (first, again) = Self.firstDuplicate(names) {
            throw FileFormatError(
                file: destination, field: "\(list)[\(again)].\(key)", message: "duplicate \(what) \(quoted(names[again])) (also \(list)[\(first)])")
        }
    }
}
