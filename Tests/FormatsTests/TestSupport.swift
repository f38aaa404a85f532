import Formats

/// The error a throwing call fails with, or `nil` when it succeeds.
func formatError<T>(_ body: () throws(FileFormatError) -> T) -> FileFormatError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
