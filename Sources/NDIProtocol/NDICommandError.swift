/// Why a command could not be parsed (tracker side) or encoded (host side).
///
/// `replyCode` is the `ERRORxx` code a tracker answers with, so a mock tracker can reply
/// `NDIReply.error(error.replyCode)` without a table of its own:
///
/// | `kind` | reply |
/// |---|---|
/// | `.empty` | ERROR03 command too short |
/// | `.tooLong` | ERROR02 command too long |
/// | `.invalidName`, `.invalidCharacter` | ERROR01 invalid command |
/// | `.badCRC` | ERROR04 bad command CRC |
/// | `.wrongParameterCount` | ERROR07 wrong number of parameters |
/// | `.invalidParameter` | ERROR23 command parameter out of range |
/// | `.invalidMode` | ERROR09 invalid mode |
///
/// `description` names the command and, when the error came from a `NDICommandFramer`, the
/// stream byte where the command started:
///
///     command at stream byte 40: PENA: tracking priority "X" is not S, D or B
public struct NDICommandError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: Hashable, Sendable {
        /// Nothing before the CR.
        case empty
        /// Longer than the framer's limit without a CR.
        case tooLong
        /// The command does not start with a name of uppercase letters and digits, or the name
        /// is followed by something other than `:`, a space or the end.
        case invalidName
        /// A byte that is not printable ASCII.
        case invalidCharacter
        /// The `:` form's CRC is missing, not hex, or does not match.
        case badCRC
        /// Too many or too few parameter characters.
        case wrongParameterCount
        /// A parameter has the right length but an invalid value.
        case invalidParameter
        /// The `PENA` tracking priority is not S, D or B.
        case invalidMode
    }

    /// What kind of problem it is.
    public var kind: Kind
    /// The command name, when it was read.
    public var command: String?
    /// What is wrong, in words.
    public var message: String
    /// Stream offset of the command's first byte, when it came from an `NDICommandFramer`.
    public var streamOffset: Int?

    public init(_ kind: Kind, command: String?, _ message: String, streamOffset: Int? = nil) {
        self.kind = kind
        self.command = command
        self.message = message
        self.streamOffset = streamOffset
    }

    /// The `ERRORxx` code a tracker answers this command with.
    public var replyCode: NDIErrorCode {
        switch self.kind {
        case .empty: .commandTooShort
        case .tooLong: .commandTooLong
        case .invalidName, .invalidCharacter: .invalidCommand
        case .badCRC: .badCommandCRC
        case .wrongParameterCount: .wrongNumberOfParameters
        case .invalidParameter: .parameterOutOfRange
        case .invalidMode: .invalidMode
        }
    }

    public var description: String {
        var s = ""
        if let offset = self.streamOffset {
            s += "command at stream byte \(offset): "
        }
        if let command = self.command {
            s += "\(command): "
        }
        return s + self.message
    }
}
