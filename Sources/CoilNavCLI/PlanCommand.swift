import ArgumentParser
import Foundation
import Formats
import Geometry
import Planning

/// `coilnav plan`: treatment plans and coil placement.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan coil poses over cortical targets.",
        subcommands: [PlaceCoil.self, Create.self, Show.self]
    )

    /// Loads a scalp mesh and builds its closest-point index once.
    static func scalpIndex(_ path: String) throws -> MeshIndex {
        let mesh = try MeshFile.read(path: path)
        do {
            return try MeshIndex(mesh: mesh.orientedOutward())
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }

    /// The anatomical head frame from NAS/LPA/RPA when all three are among the points.
    static func headFrame(from fiducials: [LabeledPoint]) throws -> HeadFrame? {
        func find(_ names: [String]) -> Vector3? {
            fiducials.first { names.contains($0.label.lowercased()) }?.position
        }
        guard let nas = find(["nas", "nasion"]), let lpa = find(["lpa"]), let rpa = find(["rpa"]) else { return nil }
        do {
            return try HeadFrame(nasion: nas, lpa: lpa, rpa: rpa)
        } catch {
            throw CLIError("cannot build the head frame from NAS/LPA/RPA: \(error)")
        }
    }

    struct PlacementJSON: Encodable {
        var coilToMRI: Matrix4Rows
        var scalpPointMM: [Double]
        var coilToCortexMM: Double
        var coilToCortexAlongZMM: Double
        var handleAngleDegrees: Double
        var targetMM: [Double]
    }

    struct PlaceCoil: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "place-coil",
            abstract: "Place the coil on the scalp over a cortical target.",
            discussion: """
                The coil frame is SimNIBS's: origin at the centre of the coil's bottom face, z into the \
                head along the scalp normal, y along the coil with the handle along −y, x = y × z. The \
                coil sits on the scalp point closest to the target (or where --direction from the target \
                leaves the scalp), with the handle --handle-angle-deg from the posterior midline, \
                positive towards the patient's left (45° is the usual left-DLPFC orientation).
                """
        )

        @Option(help: ArgumentHelp("MRI scalp mesh.", valueName: "MESH"))
        var scalp: String

        @Option(parsing: .unconditional, help: ArgumentHelp("Cortical target in MRI mm.", valueName: "X,Y,Z"))
        var target: PointArgument

        @Option(name: .customLong("handle-angle-deg"), parsing: .unconditional, help: "Handle angle from the posterior midline, degrees, positive towards the patient's left.")
        var handleAngleDeg: Double = 45

        @Option(parsing: .unconditional, help: ArgumentHelp("Place along this direction from the target instead of at the closest scalp point.", valueName: "X,Y,Z"))
        var direction: PointArgument?

        @Option(help: ArgumentHelp("MRI fiducials (NAS, LPA, RPA) defining the midline; default: the MRI's RAS axes.", valueName: "MRI.mrk.json"))
        var fiducials: String?

        @Option(name: .customLong("offset-mm"), help: "Distance from the scalp to the coil's bottom face (hair, cap), mm.")
        var offsetMM: Double = 0

        @Flag(help: "Print one JSON object.")
        var json = false

        func run() throws {
            let index = try PlanCommand.scalpIndex(self.scalp)
            let frame = try self.fiducials.map { try PlanCommand.headFrame(from: MarkupsFile.load(path: $0).allPoints) } ?? nil
            let p: CoilPlacement
            do {
                p = try CoilPlacement.place(
                    target: self.target.value, scalp: index, handleAngleDegrees: self.handleAngleDeg,
                    direction: self.direction?.value, headFrame: frame, offsetMM: self.offsetMM)
            } catch {
                throw CLIError("coil placement failed: \(error)")
            }
            if let w = PlanCommand.depthWarning(p) { printError("warning: \(w)") }
            if self.json {
                try JSONOutput.print(
                    PlacementJSON(
                        coilToMRI: p.coilToMRI.matrix4x4, scalpPointMM: array(p.scalpPointMM), coilToCortexMM: p.coilToCortexMM,
                        coilToCortexAlongZMM: p.coilToCortexAlongZMM, handleAngleDegrees: p.handleAngleDegrees,
                        targetMM: array(p.targetMM)))
            } else {
                print(PlanCommand.describe(p, name: "target"))
            }
        }
    }

    /// Figure-of-eight coils stimulate to about 2–3 cm below the coil; beyond this the plan is
    /// almost certainly wrong (a target in the wrong space, a direction through the head).
    static let maximumUsefulCoilToCortexMM = 40.0

    static func depthWarning(_ p: CoilPlacement) -> String? {
        guard p.coilToCortexMM > Self.maximumUsefulCoilToCortexMM else { return nil }
        return "the coil is \(fixed(p.coilToCortexMM, 1)) mm from the target, deeper than TMS reaches "
            + "(> \(fixed(Self.maximumUsefulCoilToCortexMM, 0)) mm): check the target coordinates and the placement direction"
    }

    static func describe(_ p: CoilPlacement, name: String) -> String {
        let s = p.scalpPointMM, c = p.coilCentreMM, t = p.targetMM
        let r = p.coilToMRI.rotation
        return """
            \(name): cortex (\(fixed(t.x, 1)), \(fixed(t.y, 1)), \(fixed(t.z, 1))) mm
              scalp point   (\(fixed(s.x, 1)), \(fixed(s.y, 1)), \(fixed(s.z, 1))) mm
              coil centre   (\(fixed(c.x, 1)), \(fixed(c.y, 1)), \(fixed(c.z, 1))) mm
              coil z (in)   (\(fixed(r[0, 2], 3)), \(fixed(r[1, 2], 3)), \(fixed(r[2, 2], 3)))
              handle (−y)   (\(fixed(-r[0, 1], 3)), \(fixed(-r[1, 1], 3)), \(fixed(-r[2, 1], 3))), \(fixed(p.handleAngleDegrees, 1))° from the midline
              coil to cortex \(fixed(p.coilToCortexMM, 1)) mm
            """
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Write a CoilNav plan: MRI fiducials, targets with coil poses placed on the scalp.")

        @Option(help: "Subject identifier.")
        var subject: String

        @Option(name: .customLong("subject-description"), help: "Free text about the subject.")
        var subjectDescription: String?

        @Option(help: ArgumentHelp("MRI fiducials (markups JSON).", valueName: "MRI.mrk.json"))
        var mri: String

        @Option(help: ArgumentHelp("Cortical targets in MRI space (markups JSON).", valueName: "T.mrk.json"))
        var targets: String

        @Option(help: ArgumentHelp("MRI scalp mesh; stored in the plan relative to the plan's folder.", valueName: "MESH"))
        var scalp: String

        @Option(name: .customLong("handle-angle-deg"), parsing: .unconditional, help: "Handle angle from the posterior midline for every target, degrees.")
        var handleAngleDeg: Double = 45

        @Option(name: .customLong("mri-name"), help: "Which MRI the coordinates refer to.")
        var mriName: String = "fsaverage (MNI305), surface RAS"

        @Option(help: ArgumentHelp("Where to write the plan.", valueName: "PLAN.json"))
        var out: String

        func run() throws {
            let fiducials = try MarkupsFile.load(path: self.mri).allPoints
            let targetPoints = try MarkupsFile.load(path: self.targets)
            let index = try PlanCommand.scalpIndex(self.scalp)
            let frame = try PlanCommand.headFrame(from: fiducials)
            var planTargets: [PlanTarget] = []
            for m in targetPoints.markups {
                for cp in m.controlPoints {
                    guard let position = m.points.first(where: { $0.label == cp.label })?.position else { continue }
                    let p: CoilPlacement
                    do {
                        p = try CoilPlacement.place(target: position, scalp: index, handleAngleDegrees: self.handleAngleDeg, headFrame: frame)
                    } catch {
                        throw CLIError("target \(cp.label): coil placement failed: \(error)")
                    }
                    if let w = PlanCommand.depthWarning(p) { printError("warning: target \(cp.label): \(w)") }
                    planTargets.append(
                        PlanTarget(
                            name: cp.label, description: cp.description.isEmpty ? nil : cp.description, cortexMM: position,
                            coilToMRI: p.coilToMRI, scalpPointMM: p.scalpPointMM, coilToCortexMM: p.coilToCortexMM,
                            handleAngleDegrees: p.handleAngleDegrees))
                }
            }
            let outURL = URL(fileURLWithPath: self.out).standardizedFileURL
            let scalpURL = URL(fileURLWithPath: self.scalp).standardizedFileURL
            let plan = Plan(
                subject: .init(id: self.subject, description: self.subjectDescription),
                coordinateSystem: .init(mri: self.mriName),
                fiducials: fiducials, targets: planTargets,
                scalpMeshPath: relativePath(from: outURL.deletingLastPathComponent(), to: scalpURL),
                provenance: .init(generator: "coilnav plan create \(CoilNavCommand.configuration.version)"))
            try plan.write(path: self.out)
            print("wrote \(self.out): \(planTargets.count) targets")
            for t in planTargets {
                print("  \(t.name): coil-to-cortex \(fixed(t.coilToCortexMM ?? .nan, 1)) mm, handle \(fixed(t.handleAngleDegrees ?? .nan, 0))°")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Summarise a plan file.")

        @Argument(help: ArgumentHelp("The plan.", valueName: "PLAN.json"))
        var plan: String

        func run() throws {
            let plan = try Plan.load(path: self.plan)
            print("subject \(plan.subject.id)\(plan.subject.description.map { " — \($0)" } ?? "")")
            print("MRI: \(plan.coordinateSystem.mri)")
            print("fiducials: " + plan.fiducials.map(\.label).joined(separator: ", "))
            if let mesh = plan.resolvedScalpMeshPath(planPath: self.plan) { print("scalp mesh: \(mesh)") }
            for t in plan.targets {
                let c = t.coilToMRI.translation
                var line = "target \(t.name): coil centre (\(fixed(c.x, 1)), \(fixed(c.y, 1)), \(fixed(c.z, 1))) mm"
                if let d = t.coilToCortexMM { line += ", coil-to-cortex \(fixed(d, 1)) mm" }
                if let a = t.handleAngleDegrees { line += ", handle \(fixed(a, 0))°" }
                print(line)
            }
        }
    }
}

/// A relative path from a directory to a file (both absolute, standardised).
func relativePath(from directory: URL, to file: URL) -> String {
    let a = directory.pathComponents, b = file.pathComponents
    var i = 0
    while i < a.count, i < b.count, a[i] == b[i] { i += 1 }
    let ups = Array(repeating: "..", count: a.count - i)
    return (ups + b[i...]).joined(separator: "/")
}
