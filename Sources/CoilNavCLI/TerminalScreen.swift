import Dispatch
import Foundation
import Readout

#if canImport(Glibc)
import Glibc
#endif

/// Signals and a wake-up pipe for the readout's drawing loop: SIGINT, SIGTERM and SIGHUP ask it
/// to quit, SIGWINCH to re-measure the terminal; anyone may `wake()` it (the feed, after new data).
/// The signals are received through Dispatch sources, so nothing runs inside a signal handler.
final class ReadoutSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var quitFlag = false
    private var resizedFlag = false
    private var signals: TerminationSignals?
    let readFD: Int32
    private let writeFD: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw CLIError("cannot create a pipe: \(String(cString: strerror(errno)))") }
        self.readFD = fds[0]
        self.writeFD = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        self.signals = TerminationSignals([SIGINT, SIGTERM, SIGHUP, SIGWINCH]) { [weak self] sig in
            guard let self else { return }
            self.lock.lock()
            if sig == SIGWINCH { self.resizedFlag = true } else { self.quitFlag = true }
            self.lock.unlock()
            self.wake()
        }
    }

    deinit {
        self.signals?.cancel()
        close(self.readFD)
        close(self.writeFD)
    }

    func wake() {
        var b: UInt8 = 1
        _ = write(self.writeFD, &b, 1)
    }

    /// Empties the wake-up pipe.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(self.readFD, &buffer, buffer.count) > 0 {}
    }

    func requestQuit() {
        self.lock.lock()
        self.quitFlag = true
        self.lock.unlock()
        self.wake()
    }

    var shouldQuit: Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        return self.quitFlag
    }

    /// Whether the terminal was resized since the last call.
    func takeResized() -> Bool {
        self.lock.lock()
        defer { self.lock.unlock() }
        let r = self.resizedFlag
        self.resizedFlag = false
        return r
    }

    /// Waits until woken, input arrives on `inputFD` (if ≥ 0), or `milliseconds` pass.
    /// Returns whether `inputFD` is readable.
    func wait(milliseconds: Int32, inputFD: Int32) -> Bool {
        var fds = [pollfd(fd: self.readFD, events: Int16(POLLIN), revents: 0)]
        if inputFD >= 0 { fds.append(pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0)) }
        let n = poll(&fds, nfds_t(fds.count), Swift.max(0, milliseconds))
        self.drain()
        return n > 0 && fds.count > 1 && fds[1].revents & Int16(POLLIN | POLLHUP) != 0
    }
}

/// The terminal in full-screen mode: alternate screen, hidden cursor, no echo and no line editing
/// (so `q` arrives without Enter). `restore()` undoes all of it and is safe to call twice; the
/// readout calls it on every way out.
final class FullScreenTerminal {
    private let inputFD: Int32 = STDIN_FILENO
    private let outputFD: Int32 = STDOUT_FILENO
    private var saved: termios?
    private var active = false
    /// The rows last written, to rewrite only the rows that changed.
    private var shown: [ScreenLine] = []
    private var shownSize: (columns: Int, rows: Int) = (0, 0)

    /// Enters full-screen mode.
    func enter() {
        if isatty(self.inputFD) != 0 {
            var t = termios()
            if tcgetattr(self.inputFD, &t) == 0 {
                self.saved = t
                var raw = t
                raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
                withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                    cc[Int(VMIN)] = 0
                    cc[Int(VTIME)] = 0
                }
                tcsetattr(self.inputFD, TCSANOW, &raw)
            }
        }
        self.active = true
        // Alternate screen, cursor hidden, attributes reset, screen cleared.
        self.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[0m\u{1B}[H\u{1B}[2J")
    }

    /// Leaves full-screen mode: attributes reset, cursor shown, main screen back, terminal modes
    /// as they were.
    func restore() {
        guard self.active else { return }
        self.active = false
        self.write("\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l")
        if var t = self.saved { tcsetattr(self.inputFD, TCSANOW, &t) }
    }

    /// The terminal's size from the kernel (TIOCGWINSZ), or 80 × 24 when it cannot say.
    func size() -> (columns: Int, rows: Int) {
        var w = winsize()
        if ioctl(self.outputFD, UInt(TIOCGWINSZ), &w) == 0, w.ws_col > 0, w.ws_row > 0 {
            return (Int(w.ws_col), Int(w.ws_row))
        }
        return (80, 24)
    }

    /// The descriptor keys come from: standard input when it is a terminal, else none (-1).
    private(set) var keyboardFD: Int32 = isatty(STDIN_FILENO) != 0 ? STDIN_FILENO : -1

    /// Reads the keys typed since the last call (non-blocking); at end of input stops listening.
    func readKeys() -> [UInt8] {
        guard self.keyboardFD >= 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(self.keyboardFD, &buffer, buffer.count)
        if n == 0 { self.keyboardFD = -1 }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Draws `lines` with one write: only the rows that differ from the last drawing, each moved
    /// to with the cursor, written, and cleared to its end; everything after a size change.
    func draw(_ lines: [ScreenLine], columns: Int, rows: Int) {
        var out = ""
        let full = self.shownSize != (columns, rows) || self.shown.count != lines.count
        if full { out += "\u{1B}[0m\u{1B}[H\u{1B}[2J" }
        for (i, line) in lines.enumerated() where full || self.shown[i] != line {
            out += "\u{1B}[\(i + 1);1H" + line.text
            if line.width < columns { out += "\u{1B}[K" }
        }
        if out.isEmpty { return }
        self.write(out)
        self.shown = lines
        self.shownSize = (columns, rows)
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(self.outputFD, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0, errno == EINTR || errno == EAGAIN {
                continue
            } else {
                return
            }
        }
    }
}
