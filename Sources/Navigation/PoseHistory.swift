import Geometry

/// One processed frame as the pulse recorder needs it.
public struct PoseHistoryEntry: Sendable, Equatable {
    public var frameNumber: UInt32
    /// Host receive time, ns of the injected clock.
    public var timeNanoseconds: UInt64
    /// `coilToMRI` of the frame, when coil, head reference and registration were all available.
    public var coilToMRI: RigidTransform?
    /// The frame's invalidity as the pipeline reported it.
    public var invalidity: NavigationInvalidity
    /// Whether the on-target state was on at this frame.
    public var onTarget: Bool

    public init(
        frameNumber: UInt32, timeNanoseconds: UInt64, coilToMRI: RigidTransform?, invalidity: NavigationInvalidity,
        onTarget: Bool = false
    ) {
        self.frameNumber = frameNumber
        self.timeNanoseconds = timeNanoseconds
        self.coilToMRI = coilToMRI
        self.invalidity = invalidity
        self.onTarget = onTarget
    }
}

/// The coil pose at an instant between two frames.
public struct InterpolatedPose: Sendable, Equatable {
    public var before: PoseHistoryEntry
    public var after: PoseHistoryEntry
    /// 0 at `before`, 1 at `after`.
    public var fraction: Double
    /// The interpolated `coilToMRI` (slerp of the rotation, lerp of the translation); nil when either
    /// frame lacks the pose.
    public var coilToMRI: RigidTransform?
    /// The union of both frames' invalidity, plus `.stale` when the frames are further apart than the
    /// allowed gap.
    public var invalidity: NavigationInvalidity
}

/// What the history knows about an instant.
public enum PoseLookup: Sendable, Equatable {
    /// The instant lies between two recorded frames (or on one: then `before == after`, fraction 0).
    case interpolated(InterpolatedPose)
    /// The instant is after the newest frame: wait for the next one.
    case pending(newest: PoseHistoryEntry?)
    /// The instant is older than everything still held.
    case tooOld(oldest: PoseHistoryEntry)
}

/// A fixed-capacity ring of the most recent frames' coil poses, for recording a pulse with the coil
/// pose interpolated to the pulse's time. Appending never allocates once the ring is full.
///
/// Entries must be appended in increasing time; an entry not newer than the newest is ignored.
public struct PoseHistory: Sendable {
    public let capacity: Int
    /// Two frames further apart than this make an interpolation between them `.stale`, ns.
    public var maximumGapNanoseconds: UInt64
    private var entries: [PoseHistoryEntry] = []
    private var start = 0

    public init(capacity: Int, maximumGapNanoseconds: UInt64) {
        precondition(capacity >= 2, "a pose history needs room for two frames")
        self.capacity = capacity
        self.maximumGapNanoseconds = maximumGapNanoseconds
        self.entries.reserveCapacity(capacity)
    }

    public var count: Int { self.entries.count }

    /// The i-th oldest entry.
    public subscript(i: Int) -> PoseHistoryEntry { self.entries[(self.start + i) % self.entries.count] }

    public var newest: PoseHistoryEntry? { self.entries.isEmpty ? nil : self[self.count - 1] }
    public var oldest: PoseHistoryEntry? { self.entries.isEmpty ? nil : self[0] }

    public mutating func append(_ entry: PoseHistoryEntry) {
        if let n = self.newest, entry.timeNanoseconds <= n.timeNanoseconds { return }
        if self.entries.count < self.capacity {
            self.entries.append(entry)
        } else {
            self.entries[self.start] = entry
            self.start = (self.start + 1) % self.capacity
        }
    }

    public mutating func removeAll() {
        self.entries.removeAll(keepingCapacity: true)
        self.start = 0
    }

    /// How many held frames are later than `time`.
    public func count(after time: UInt64) -> Int {
        var lo = 0
        var hi = self.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid].timeNanoseconds <= time { lo = mid + 1 } else { hi = mid }
        }
        return self.count - lo
    }

    /// The pose at `time`: interpolated between the last frame at or before it and the first frame at
    /// or after it (binary search).
    public func lookup(at time: UInt64) -> PoseLookup {
        guard let newest = self.newest, let oldest = self.oldest else { return .pending(newest: nil) }
        if time > newest.timeNanoseconds { return .pending(newest: newest) }
        if time < oldest.timeNanoseconds { return .tooOld(oldest: oldest) }
        // The first index whose time is ≥ `time`.
        var lo = 0
        var hi = self.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if self[mid].timeNanoseconds < time { lo = mid + 1 } else { hi = mid }
        }
        let after = self[lo]
        let before = after.timeNanoseconds == time ? after : self[lo - 1]
        let span = after.timeNanoseconds - before.timeNanoseconds
        let fraction = span == 0 ? 0 : Double(time - before.timeNanoseconds) / Double(span)
        var invalidity = before.invalidity.union(after.invalidity)
        if span > self.maximumGapNanoseconds { invalidity.insert(.stale) }
        var pose: RigidTransform? = nil
        if let a = before.coilToMRI, let b = after.coilToMRI {
            pose = fraction == 0 ? a : a.interpolated(to: b, fraction: fraction)
        }
        return .interpolated(
            InterpolatedPose(before: before, after: after, fraction: fraction, coilToMRI: pose, invalidity: invalidity))
    }
}
