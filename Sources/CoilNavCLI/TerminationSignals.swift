import Foundation

/// SIGINT and SIGTERM (or other signals) handled by `handler` on a dispatch queue instead of
/// ending the process, until `cancel()`, which restores their default action. For commands that
/// must stop cleanly (TSTOP, flush, restore the terminal) when interrupted.
final class TerminationSignals {
    private let signals: [Int32]
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32] = [SIGINT, SIGTERM], handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(sig) }
            source.resume()
            self.sources.append(source)
        }
    }

    func cancel() {
        for s in self.sources { s.cancel() }
        self.sources = []
        for sig in self.signals { signal(sig, SIG_DFL) }
    }

    deinit { self.cancel() }
}
