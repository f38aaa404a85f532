/// Measures how long a piece of work takes, for `coilnav bench`. Timing lives here and only
/// here: tests never assert durations.
struct Measurement: Encodable {
    var name: String
    var iterations: Int
    /// Calls timed together per sample (per-call figures are the sample divided by this).
    var callsPerSample: Int
    var minMicroseconds: Double
    var medianMicroseconds: Double
    var p99Microseconds: Double
    var maxMicroseconds: Double
    var goalMicroseconds: Double?
    var meetsGoal: Bool?
}

enum Stopwatch {
    /// Runs `body` `warmup` times unmeasured, then `iterations` times, timing each run with the
    /// monotonic clock. `body` returns a value that is kept alive so the optimiser cannot drop
    /// the work.
    ///
    /// With `callsPerSample` > 1 each sample times that many consecutive calls and divides: the
    /// usual way to time calls of a few microseconds, where one call is close to the clock's
    /// resolution and to the cost of the bookkeeping between samples.
    static func measure<T>(_ name: String, iterations: Int, callsPerSample: Int = 1, warmup: Int = 3, goalMicroseconds: Double? = nil,
                           _ body: () throws -> T) rethrows -> Measurement {
        var sink: [T] = []
        sink.reserveCapacity(1)
        for _ in 0..<warmup { sink = [try body()] }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let start = clock.now
            var r = try body()
            for _ in 1..<max(callsPerSample, 1) { r = try body() }
            let elapsed = clock.now - start
            sink = [r]
            let (s, atto) = elapsed.components
            samples.append((Double(s) * 1e6 + Double(atto) / 1e12) / Double(max(callsPerSample, 1)))
        }
        withExtendedLifetime(sink) {}
        samples.sort()
        func q(_ p: Double) -> Double { samples[min(samples.count - 1, Int((Double(samples.count - 1) * p).rounded()))] }
        let median = q(0.5)
        return Measurement(
            name: name, iterations: iterations, callsPerSample: max(callsPerSample, 1), minMicroseconds: samples.first ?? 0, medianMicroseconds: median,
            p99Microseconds: q(0.99), maxMicroseconds: samples.last ?? 0, goalMicroseconds: goalMicroseconds,
            meetsGoal: goalMicroseconds.map { median <= $0 })
    }
}
