/// A named point: a fiducial (nasion, LPA, RPA …), a target, or a digitised scalp point, in
/// millimetres in whatever space its container declares (MRI RAS, head-reference, tracker).
public struct LabeledPoint: Equatable, Sendable, CustomStringConvertible {
    public var label: String
    public var position: Vector3

    public init(label: String, position: Vector3) {
        self.label = label
        self.position = position
    }

    public var description: String { "\(self.label) (\(self.position.x), \(self.position.y), \(self.position.z))" }
}
