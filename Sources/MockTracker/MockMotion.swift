import Geometry

/// How a tool moves, noise-free: a function from time (seconds since the start of the run) to
/// the tool's pose in its scenario space (`MockTool.space`). Built by the scenario parser from
/// one of the motion kinds of `Mock/scenarios/README.md`; every kind is defined for all times
/// (before it starts it holds its first pose, after it ends it holds its last pose or keeps
/// oscillating).
public struct MockMotion: Sendable {
    enum Kind: Sendable {
        case fixed(RigidTransform)
        case keyframes(Keyframes)
        case approach(Approach)
        case pivot(Pivot)
        case landmarks(Landmarks)
        case scalpSweep(ScalpSweep)
        case headMotion(HeadMotion)
        case sequence(MotionSequence)
    }

    let kind: Kind

    init(_ kind: Kind) {
        self.kind = kind
    }

    /// The motion's `type` as written in scenario files (`static`, `keyframes`, `approach`,
    /// `pivot`, `landmarks`, `scalp-sweep`, `head-motion`).
    public var typeName: String {
        switch self.kind {
        case .fixed: return "static"
        case .keyframes: return "keyframes"
        case .approach: return "approach"
        case .pivot: return "pivot"
        case .landmarks: return "landmarks"
        case .scalpSweep: return "scalp-sweep"
        case .headMotion: return "head-motion"
        case .sequence: return "sequence"
        }
    }

    /// The tool's pose in its scenario space at `seconds` after the start (`toolToSpace`).
    public func pose(atSeconds seconds: Double) -> RigidTransform {
        switch self.kind {
        case .fixed(let p): return p
        case .keyframes(let k): return k.pose(at: seconds)
        case .approach(let a): return a.pose(at: seconds)
        case .pivot(let p): return p.pose(at: seconds)
        case .landmarks(let l): return l.pose(at: seconds)
        case .scalpSweep(let s): return s.pose(at: seconds)
        case .headMotion(let h): return h.pose(at: seconds)
        case .sequence(let s): return s.segment(at: seconds).pose(atSeconds: seconds)
        }
    }

    /// The pointer tip in tool coordinates (mm) for the motions that place a tip (`pivot`,
    /// `landmarks`, `scalp-sweep`; a `sequence`: its first segment that places one); `nil` for
    /// the others.
    public var tipMM: Vector3? {
        switch self.kind {
        case .pivot(let p): return p.tip
        case .landmarks(let l): return l.tip
        case .scalpSweep(let s): return s.tip
        case .sequence(let s): return s.motions.lazy.compactMap(\.tipMM).first
        default: return nil
        }
    }

    /// The dwells of a `landmarks` motion, in order; empty for other kinds. For a `sequence`, the
    /// dwells of its `landmarks` segments that lie wholly inside the time their segment is active.
    public var landmarkVisits: [MockLandmarkVisit] {
        switch self.kind {
        case .landmarks(let l): return l.visits
        case .sequence(let s):
            var out: [MockLandmarkVisit] = []
            for (k, m) in s.motions.enumerated() {
                let from = s.starts[k]
                let to = k + 1 < s.starts.count ? s.starts[k + 1] : Double.infinity
                out += m.landmarkVisits.filter { $0.fromSeconds >= from && $0.toSeconds <= to }
            }
            return out
        default: return []
        }
    }

    /// The segments of a `sequence` motion: each one's start (seconds from the start of the run)
    /// and its motion; empty for other kinds.
    public var segments: [(fromSeconds: Double, motion: MockMotion)] {
        guard case .sequence(let s) = self.kind else { return [] }
        return Array(zip(s.starts, s.motions)).map { (fromSeconds: $0.0, motion: $0.1) }
    }

    /// The points a `scalp-sweep` motion's tip visits, in order, in the motion's space (mm);
    /// empty for other kinds.
    public var sweepPointsMM: [Vector3] {
        guard case .scalpSweep(let s) = self.kind else { return [] }
        return s.points
    }

    /// The time, in seconds from the start, after which a one-shot motion no longer changes
    /// (`keyframes`: the last keyframe; `approach`: the arrival, wobble aside; `landmarks` and
    /// `scalp-sweep`: the end of the tour); `nil` for `static` and the periodic kinds.
    public var settledAfterSeconds: Double? {
        switch self.kind {
        case .fixed, .pivot, .headMotion: return nil
        case .keyframes(let k): return k.times.last
        case .approach(let a): return a.arrival
        case .landmarks(let l): return l.endTime
        case .scalpSweep(let s): return s.endTime
        case .sequence(let s):
            guard let last = s.motions.last?.settledAfterSeconds else { return nil }
            return Swift.max(last, s.starts[s.starts.count - 1])
        }
    }
}

// MARK: - Shared pieces

/// How a transition speeds up and slows down: the fraction of the way done at a fraction of
/// the time done.
enum Easing: String, Sendable, CaseIterable {
    /// Constant speed.
    case linear
    /// Smoothstep, 3s² − 2s³: starts and ends at rest. Exactly 0 at 0 and 1 at 1.
    case smooth

    func callAsFunction(_ s: Double) -> Double {
        let c = Swift.min(Swift.max(s, 0), 1)
        switch self {
        case .linear: return c
        case .smooth: return c * c * (3 - 2 * c)
        }
    }
}

/// `amplitude · sin(2π t / period + phase)`.
struct Oscillation: Sendable {
    var amplitude: Double
    var periodSeconds: Double
    var phaseRadians: Double

    func value(at t: Double) -> Double {
        self.amplitude * sinDouble(2 * Double.pi * t / self.periodSeconds + self.phaseRadians)
    }
}

/// The rotation about `axis` by `radians` as a matrix (right-handed).
func rotationMatrix(axis: Vector3, radians: Double) -> Matrix3 {
    Quaternion(axis: axis, angleRadians: radians).rotationMatrix
}

/// The smallest rotation taking unit vector `a` onto unit vector `b`.
func minimalRotation(from a: Vector3, to b: Vector3) -> Matrix3 {
    let c = a.cross(b)
    let s = c.length
    let d = a.dot(b)
    if s < 1e-15 {
        if d > 0 { return .identity }
        return rotationMatrix(axis: a.anyPerpendicular, radians: Double.pi)
    }
    return rotationMatrix(axis: c, radians: atan2Double(s, d))
}

/// Interpolates two rotations (slerp) as matrices.
func slerp(_ a: Matrix3, _ b: Matrix3, _ fraction: Double) -> Matrix3 {
    if fraction <= 0 { return a }
    if fraction >= 1 { return b }
    return Quaternion(rotationMatrix: a).slerp(to: Quaternion(rotationMatrix: b), fraction: fraction).rotationMatrix
}

// MARK: - keyframes

/// Poses at given times, interpolated in between (slerp for the rotation, lerp for the
/// translation, with an easing per segment), holding the first before and the last after.
struct Keyframes: Sendable {
    var times: [Double]
    var poses: [RigidTransform]
    var easing: Easing

    func pose(at t: Double) -> RigidTransform {
        if t <= self.times[0] { return self.poses[0] }
        let last = self.times.count - 1
        if t >= self.times[last] { return self.poses[last] }
        // The segment [times[i], times[i+1]) containing t.
        var lo = 0, hi = last
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if self.times[mid] <= t { lo = mid } else { hi = mid }
        }
        if t == self.times[lo] { return self.poses[lo] }
        let s = (t - self.times[lo]) / (self.times[hi] - self.times[lo])
        return self.poses[lo].interpolated(to: self.poses[hi], fraction: self.easing(s))
    }
}

// MARK: - approach

/// From `target * startOffset` to `target`: the offset (in the target's frame) shrinks to the
/// identity between `start` and `arrival`, then the tool holds the target, optionally with a
/// small deterministic wobble.
struct Approach: Sendable {
    var target: RigidTransform
    var startOffset: RigidTransform
    var start: Double
    var arrival: Double
    var easing: Easing
    var wobble: Wobble?

    /// After arrival: translation `A·(sin ωτ, sin 1.5ωτ, 0)` and a rotation of `R·sin 1.25ωτ`
    /// about x, both in the target's frame, with τ the time since arrival and ω = 2π / period.
    struct Wobble: Sendable {
        var translationMM: Double
        var rotationRadians: Double
        var periodSeconds: Double

        func offset(at tau: Double) -> RigidTransform {
            let w = 2 * Double.pi / self.periodSeconds
            let t = Vector3(sinDouble(w * tau), sinDouble(1.5 * w * tau), 0) * self.translationMM
            let angle = self.rotationRadians * sinDouble(1.25 * w * tau)
            return RigidTransform(rotation: rotationMatrix(axis: Vector3(1, 0, 0), radians: angle), translation: t)
        }
    }

    func pose(at t: Double) -> RigidTransform {
        if t >= self.arrival {
            guard let w = self.wobble else { return self.target }
            return self.target * w.offset(at: t - self.arrival)
        }
        if t <= self.start { return self.target * self.startOffset }
        let e = self.easing((t - self.start) / (self.arrival - self.start))
        return self.target * self.startOffset.interpolated(to: .identity, fraction: e)
    }
}

// MARK: - pivot

/// A pointer whose tip rests at `pivot` while the tool swings about it: the rotation is
/// `Rₙ(θₙ(t)) ⋯ R₁(θ₁(t)) · base`, each `Rₖ` about a fixed axis of the motion's space with
/// `θₖ(t) = amplitude · sin(2πt / period + phase)`, and the translation keeps the tip on the
/// pivot: `translation = pivot − R · tip`.
struct Pivot: Sendable {
    var pivot: Vector3
    var tip: Vector3
    var base: Matrix3
    var swings: [(axis: Vector3, oscillation: Oscillation)]

    func pose(at t: Double) -> RigidTransform {
        var r = self.base
        for s in self.swings {
            r = rotationMatrix(axis: s.axis, radians: s.oscillation.value(at: t)) * r
        }
        return RigidTransform(rotation: r, translation: self.pivot - r * self.tip)
    }
}

// MARK: - landmarks

/// A pointer touching a list of points in turn: it comes down onto the first along its own
/// shaft, rests on it, lifts and travels to the next (slerping its orientation), rests, and so
/// on, and lifts off the last. See `Mock/scenarios/README.md` for the exact timeline.
struct Landmarks: Sendable {
    var tip: Vector3
    var labels: [String]
    var points: [Vector3]
    /// The tool's rotation while resting on each point.
    var rotations: [Matrix3]
    var start: Double
    var travel: Double
    var dwell: Double
    var lift: Double
    var easing: Easing

    var cycle: Double { self.travel + self.dwell }
    var endTime: Double { self.cycleStart(self.points.count) + self.travel }

    var visits: [MockLandmarkVisit] {
        self.points.indices.map { k in
            MockLandmarkVisit(
                label: self.labels[k], positionMM: self.points[k],
                fromSeconds: self.cycleStart(k) + self.travel, toSeconds: self.cycleStart(k + 1))
        }
    }

    /// The unit direction the tip points along (from the markers to the tip) under rotation `r`.
    private func shaft(_ r: Matrix3) -> Vector3 { (r * self.tip).normalized }

    private func place(tipAt p: Vector3, rotation r: Matrix3) -> RigidTransform {
        RigidTransform(rotation: r, translation: p - r * self.tip)
    }

    /// The start of cycle `k` (travel into point `k`, then the dwell on it). Computed the same
    /// way here and in `visits`, so a frame time inside a visit is always resting.
    private func cycleStart(_ k: Int) -> Double { self.start + Double(k) * self.cycle }

    func pose(at t: Double) -> RigidTransform {
        let n = self.points.count
        let first = self.rotations[0]
        if t < self.start { return self.place(tipAt: self.points[0] - self.shaft(first) * self.lift, rotation: first) }
        var k = Swift.min(Int(((t - self.start) / self.cycle).rounded(.down)), n)
        while k > 0 && t < self.cycleStart(k) { k -= 1 }
        while k < n && t >= self.cycleStart(k + 1) { k += 1 }
        if k >= n {
            // Lifting off the last point, then hovering.
            let r = self.rotations[n - 1]
            let e = self.easing((t - self.cycleStart(n)) / self.travel)
            return self.place(tipAt: self.points[n - 1] - self.shaft(r) * (self.lift * e), rotation: r)
        }
        let dwellStart = self.cycleStart(k) + self.travel
        if t >= dwellStart { return self.place(tipAt: self.points[k], rotation: self.rotations[k]) }
        let e = self.easing((t - self.cycleStart(k)) / self.travel)
        if k == 0 {
            return self.place(tipAt: self.points[0] - self.shaft(first) * (self.lift * (1 - e)), rotation: first)
        }
        let r = slerp(self.rotations[k - 1], self.rotations[k], e)
        let along = self.points[k - 1] + (self.points[k] - self.points[k - 1]) * e
        return self.place(tipAt: along - self.shaft(r) * (self.lift * sinDouble(Double.pi * e)), rotation: r)
    }
}

// MARK: - scalp-sweep

/// A pointer gliding over a surface: the tip goes through `points` in order, and at every
/// instant sits on the surface point closest to the straight chord between the two points it
/// is travelling between, with the tool's tip axis along the inward (smoothed) surface normal.
struct ScalpSweep: Sendable {
    var tip: Vector3
    var base: Matrix3
    var index: MeshIndex
    var vertexNormals: [Vector3]
    var points: [Vector3]
    var start: Double
    var travel: Double
    var dwell: Double
    var easing: Easing

    var cycle: Double { self.travel + self.dwell }
    var endTime: Double { self.start + Double(self.points.count - 1) * self.cycle }

    func pose(at t: Double) -> RigidTransform {
        let tau = t - self.start
        let n = self.points.count
        var q: Vector3
        if tau <= 0 || n == 1 {
            q = self.points[0]
        } else {
            let k = Int((tau / self.cycle).rounded(.down))  // travelling from points[k] to points[k+1]
            if k >= n - 1 {
                q = self.points[n - 1]
            } else {
                let within = tau - Double(k) * self.cycle
                let e = within >= self.travel ? 1 : self.easing(within / self.travel)
                q = self.points[k] + (self.points[k + 1] - self.points[k]) * e
            }
        }
        return self.touch(q)
    }

    /// The pose with the tip on the surface point closest to `q`, the tip axis along the
    /// inward normal there.
    func touch(_ q: Vector3) -> RigidTransform {
        guard let hit = self.index.closestPoint(to: q) else { return RigidTransform(rotation: self.base, translation: q - self.base * self.tip) }
        let tri = self.index.mesh.triangles[hit.triangle]
        var normal = self.vertexNormals[Int(tri.x)] * hit.barycentric.x + self.vertexNormals[Int(tri.y)] * hit.barycentric.y
            + self.vertexNormals[Int(tri.z)] * hit.barycentric.z
        if normal.length < 1e-9 { normal = hit.normal }
        let inward = -normal.normalized
        let r = minimalRotation(from: (self.base * self.tip).normalized, to: inward) * self.base
        return RigidTransform(rotation: r, translation: hit.point - r * self.tip)
    }
}

// MARK: - head-motion

/// Slow head movement about a rest pose: `pose(t) = translate(sway(t)) · rotateAbout(pivot,
/// axis, nod(t)) · rest`, with `sway(t) = amplitude ⊙ sin(2πt / period + phase)` (per axis, in
/// the motion's space) and `nod(t) = amplitude · sin(2πt / period + phase)` about an axis
/// through a point of the motion's space (the neck, say).
struct HeadMotion: Sendable {
    var rest: RigidTransform
    var nodAxis: Vector3
    var nodPivot: Vector3
    var nod: Oscillation?
    var swayAmplitude: Vector3
    /// Unit amplitude: the per-axis amplitudes are `swayAmplitude`.
    var sway: Oscillation?

    func pose(at t: Double) -> RigidTransform {
        var p = self.rest
        if let nod = self.nod {
            let r = rotationMatrix(axis: self.nodAxis, radians: nod.value(at: t))
            p = RigidTransform(rotation: r, translation: self.nodPivot - r * self.nodPivot) * p
        }
        if let sway = self.sway {
            p = RigidTransform.translation(self.swayAmplitude * sway.value(at: t)) * p
        }
        return p
    }
}

// MARK: - sequence

/// Several motions one after another: segment `k` gives the pose from `starts[k]` (inclusive)
/// until the next segment starts; `starts[0]` is 0 and the starts increase strictly. Each
/// segment's motion is evaluated at the run's time, not at the time since its segment began, so
/// a `landmarks` segment's `startSeconds` is a time of the run. A segment never holds a
/// `sequence` itself.
struct MotionSequence: Sendable {
    var starts: [Double]
    var motions: [MockMotion]

    /// The motion active at `t`: the last segment whose start is at or before `t` (the first one
    /// before the run starts).
    func segment(at t: Double) -> MockMotion {
        var k = self.starts.count - 1
        while k > 0 && t < self.starts[k] { k -= 1 }
        return self.motions[k]
    }
}
