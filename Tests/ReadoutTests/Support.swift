import Readout

/// Builds the readout's known states for the tests: frames, status and events as decoded values,
/// at injected times (nanoseconds).
enum Known {
    static let second: Int64 = 1_000_000_000

    /// The status of a healthy server: tracking at 60 Hz, nothing dropped, the demo registration's
    /// FRE and a predicted TRE at the active target.
    static let status = ReadoutStatus(
        tracker: "tracking", lastFrame: 2123, registered: true, target: "DLPFC-Fox2012", freMM: 0.72, predictedTREMM: 0.58,
        fleMM: 1.0, frameRateHz: 60.0, framesReceived: 2000, framesDropped: 0)

    static func metrics(
        distance: Double, inPlane: (x: Double, y: Double), depth: Double, tilt: Double, tiltX: Double, tiltY: Double,
        twist: Double?, cortex: Double
    ) -> ReadoutMetrics {
        let mm = (inPlane.x * inPlane.x + inPlane.y * inPlane.y).squareRoot()
        return ReadoutMetrics(
            distanceMM: distance, offsetMM: (inPlane.x, inPlane.y, depth), depthMM: depth,
            inPlaneAtCoil: ReadoutPlanePoint(x: inPlane.x, y: inPlane.y, mm: mm),
            inPlaneAtCortex: ReadoutPlanePoint(x: inPlane.x, y: inPlane.y, mm: cortex), tiltDegrees: tilt,
            tiltAboutTargetXDegrees: tiltX, tiltAboutTargetYDegrees: tiltY, twistDegrees: twist)
    }

    /// On target for 1.25 s: 0.4 mm to the coil's right of the target (target −x), 0.5 mm away,
    /// 0.3 mm deep; tilted 1.5° towards the coil's front; twisted 2° anticlockwise.
    static let onTargetFrame = ReadoutFrame(
        frame: 2123, valid: true, reasons: [], target: "DLPFC-Fox2012", coilStatus: "ok", headStatus: "ok",
        pointerStatus: "missing",
        metrics: metrics(distance: 0.5, inPlane: (-0.4, 0), depth: 0.3, tilt: 1.5, tiltX: -1.5, tiltY: 0, twist: -2, cortex: 0.9),
        onTarget: ReadoutOnTarget(state: "on", on: true, dwellMs: 1250))

    /// Off target, beyond the bullseye: in-plane (8, −9) mm (12.04 mm, behind and to the coil's left
    /// … as seen from outside: down and to the left), lifted 12 mm, tilted 12°, twisted 45°.
    static let farFrame = ReadoutFrame(
        frame: 1100, valid: true, reasons: [], target: "DLPFC-Fox2012", coilStatus: "ok", headStatus: "ok",
        pointerStatus: "partly-out-of-volume",
        metrics: metrics(distance: 17.2, inPlane: (8, -9), depth: -12, tilt: 12, tiltX: 0, tiltY: 12, twist: 45, cortex: 20.5),
        onTarget: ReadoutOnTarget(state: "off", on: false, dwellMs: 0))

    static let coilMissingFrame = ReadoutFrame(
        frame: 1500, valid: false, reasons: ["coil-missing"], target: "DLPFC-Fox2012", coilStatus: "missing", headStatus: "ok",
        pointerStatus: nil, metrics: nil, onTarget: ReadoutOnTarget(state: "off", on: false, dwellMs: 0))

    /// A state connected at t = 0 that received `frame` and the healthy status at `at`.
    static func state(_ frame: ReadoutFrame?, at: Int64 = 10 * second, status: ReadoutStatus? = Known.status) -> ReadoutState {
        var s = ReadoutState(serverLabel: "127.0.0.1:18945")
        s.setConnection(.connected(sinceNanoseconds: 0))
        if let status { s.apply(.status(status), at: at) }
        if let frame { s.apply(.frame(frame), at: at) }
        return s
    }

    /// The text of rendered lines, one string with `\n` between rows.
    static func text(_ lines: [ScreenLine]) -> String { lines.map(\.text).joined(separator: "\n") }
}
