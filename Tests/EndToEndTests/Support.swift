import CoilNavTestSupport
import Foundation
import Geometry
import Testing

/// Runs the built `coilnav` executable (next to the test bundle, or `$COILNAV_BIN`).
struct CoilNavRun {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The JSON object printed on stdout.
    func json() throws -> [String: Any] {
        let o = try JSONSerialization.jsonObject(with: Data(self.stdout.utf8))
        return try #require(o as? [String: Any], "stdout is not a JSON object: \(self.stdout)")
    }
}

enum Paths {
    /// The repository root (this file is Tests/EndToEndTests/Support.swift).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func demo(_ file: String) -> String { root.appendingPathComponent("Mock/demo").appendingPathComponent(file).path }

    static var executable: URL {
        if let e = ProcessInfo.processInfo.environment["COILNAV_BIN"], !e.isEmpty { return URL(fileURLWithPath: e) }
        // The test runner lives in the build products folder, e.g. .build/<triple>/debug/CoilNavPackageTests.xctest.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("coilnav")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/coilnav")
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}

func coilnav(_ arguments: [String], currentDirectory: URL? = nil) throws -> CoilNavRun {
    let r = try runProcess(Paths.executable, arguments, currentDirectory: currentDirectory)
    return CoilNavRun(status: r.status, stdout: r.stdout, stderr: r.stderr)
}

/// Writes a 3D Slicer markups file with the given points (RAS).
func writeMarkups(_ points: [LabeledPoint], to url: URL, coordinateSystem: String = "RAS") throws {
    let sign: Double = coordinateSystem == "LPS" ? -1 : 1
    let cps: [[String: Any]] = points.enumerated().map { i, p in
        ["id": "\(i + 1)", "label": p.label, "position": [sign * p.position.x, sign * p.position.y, p.position.z], "positionStatus": "defined"]
    }
    let obj: [String: Any] = [
        "@schema": "https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#",
        "markups": [["type": "Fiducial", "coordinateSystem": coordinateSystem, "coordinateUnits": "mm", "controlPoints": cps]],
    ]
    try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]).write(to: url)
}

func matrix(_ any: Any?) throws -> RigidTransform {
    let rows = try #require(any as? [[Double]], "not a 4×4 matrix: \(String(describing: any))")
    return try RigidTransform(matrix4x4: rows)
}

/// The fsaverage fiducials (MNE), MRI RAS mm.
let fsaverageFiducials: [LabeledPoint] = [
    LabeledPoint(label: "NAS", position: Vector3(1.47, 85.07, -34.84)),
    LabeledPoint(label: "LPA", position: Vector3(-80.62, -29.09, -41.31)),
    LabeledPoint(label: "RPA", position: Vector3(84.36, -28.50, -41.28)),
]
