import ArgumentParser
import Foundation
import Geometry

/// A point given on the command line as `X,Y,Z` (millimetres).
struct PointArgument: ExpressibleByArgument, Sendable {
    var value: Vector3

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == 3, let x = Double(parts[0]), let y = Double(parts[1]), let z = Double(parts[2]),
            x.isFinite, y.isFinite, z.isFinite
        else { return nil }
        self.value = Vector3(x, y, z)
    }

    static var defaultValueDescription: String { "X,Y,Z" }
}

/// A 4×4 matrix as nested arrays, for JSON output.
typealias Matrix4Rows = [[Double]]

/// `[x, y, z]` for JSON output.
func array(_ v: Vector3) -> [Double] { [v.x, v.y, v.z] }
