/// Measures how long a piece of work takes, for `coilnav bench`. Timing lives here and only
/// here: tests never assert durations.
struct Measurement: Encodable {
    var name: String
    var iterations: Int
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
    static func measure<T>(_ name: String, iterations: Int, warmup: Int = 3, goalMicroseconds: Double? = nil,
                           _ body: () throws -> T) rethrows -> Measurement {
        var sink: [T] = []
        sink.reserveCapacity(1)
        for _ in 0..<warmup { sink = [try body()] }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let start = clock.now
            let r = try body()
            let elapsed = clock.now - start
            sink = [r]
            let (s, atto) = elapsed.components
            samples.append(Double(s) * 1e6 + Double(atto) / 1e12)
        }
        withExtendedLifetime(sink) {}
        samples.sort()
        func q(_ p: Double) -> Double { samples[min(samples.count - 1, Int((Double(samples.count - 1) * p).rounded()))] }
        let median = q(0.5)
        return Measurement(
            name: name, iterations: iterations, minMicroseconds: samples.first ?? 0, medianMicroseconds: median,
            p99Microseconds: q(0.99), maxMicroseconds: samples.last ?? 0, goalMicroseconds: goalMicroseconds,
            meetsGoal: goalMicroseconds.map { median <= $0 })
    }
}
