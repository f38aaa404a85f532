import ArgumentParser
import Foundation
import Formats
import Geometry
import Registration

/// `coilnav register`: head-to-MRI registration from fiducials, optionally refined on the scalp.
struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register head-space fiducials (and optionally scalp points) to the MRI.",
        discussion: """
            Fiducials are matched by label (case-insensitive). The result is headToMRI, the fiducial \
            registration error (FRE: RMS of the 3-D residuals), each fiducial's residual, and — with \
            --targets and --fle-mm — the predicted target registration error at each target \
            (Fitzpatrick, West & Maurer 1998). With --scalp and --head-surface the fiducial solution \
            is refined by point-to-plane ICP of the digitised scalp points against the MRI scalp mesh; \
            the reported FRE and residuals are then those of the refined transform.
            """
    )

    @Option(help: ArgumentHelp("MRI fiducials (3D Slicer markups JSON).", valueName: "MRI.mrk.json"))
    var mri: String?

    @Option(help: ArgumentHelp("The same fiducials digitised in head space (3D Slicer markups JSON).", valueName: "HEAD.mrk.json"))
    var head: String?

    @Option(help: ArgumentHelp("Guided registration against a running `coilnav serve` (its JSON-lines port).", valueName: "HOST:PORT"))
    var server: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("The session token (default: coilnav-session/token when it exists).", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: "With --server: tracker frames averaged per capture.")
    var frames: Int = 10

    @Option(help: ArgumentHelp("Targets in MRI space for the TRE prediction (markups JSON).", valueName: "T.mrk.json"))
    var targets: String?

    @Option(name: .customLong("fle-mm"), help: "Fiducial localisation error, 3-D RMS in mm, for the FRE/TRE prediction.")
    var fleMM: Double?

    @Option(help: ArgumentHelp("MRI scalp mesh (.ply, .stl, .obj or FreeSurfer surface) for surface refinement.", valueName: "MESH"))
    var scalp: String?

    @Option(name: .customLong("head-surface"), help: ArgumentHelp("Digitised scalp points in head space (markups JSON).", valueName: "PTS.mrk.json"))
    var headSurface: String?

    @Flag(name: .customLong("use-common-labels"), help: "Register on the labels present in both files instead of requiring every label on both sides.")
    var useCommonLabels = false

    @Option(help: ArgumentHelp("Also write the result as a CoilNav registration file.", valueName: "FILE"))
    var out: String?

    @Flag(help: "Print one JSON object instead of the human-readable report.")
    var json = false

    func validate() throws {
        if self.server == nil, self.mri == nil || self.head == nil {
            throw ValidationError("give --mri and --head (registration from files), or --server HOST:PORT (guided, with a running coilnav serve)")
        }
        if self.server != nil, self.mri != nil || self.head != nil || self.scalp != nil || self.out != nil || self.json {
            throw ValidationError("--server runs the guided registration: --mri, --head, --scalp, --out and --json are for registration from files")
        }
        if !(1...1000).contains(self.frames) { throw ValidationError("--frames must be 1…1000, got \(self.frames)") }
        if (self.scalp == nil) != (self.headSurface == nil) {
            throw ValidationError("--scalp and --head-surface go together: surface refinement needs both the MRI scalp mesh and the digitised scalp points")
        }
        if let f = self.fleMM, !(f.isFinite && f > 0) {
            throw ValidationError("--fle-mm must be a positive number of millimetres (got \(f))")
        }
    }

    func run() throws {
        if let address = self.server {
            let connection = try ServerConnection(address)
            defer { connection.close() }
            let flow = GuidedRegistration(
                server: connection, token: try ServerConnection.token(file: self.tokenFile), frames: self.frames,
                input: { readLine(strippingNewline: true) },
                output: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) })
            if try flow.run() == .quit {
                printError("coilnav register: not accepted; the session keeps its previous registration")
                throw ExitCode(1)
            }
            return
        }
        guard let mriPath = self.mri, let headPath = self.head else { return }
        let report = try RegistrationReport.compute(
            mriPath: mriPath, headPath: headPath, targetsPath: self.targets, fleMM: self.fleMM,
            scalpPath: self.scalp, headSurfacePath: self.headSurface, useCommonLabels: self.useCommonLabels)
        if let out = self.out {
            try report.record(createdAt: ISO8601DateFormatter().string(from: Date())).write(path: out)
        }
        if self.json {
            try JSONOutput.print(report.json)
        } else {
            print(report.text)
        }
    }
}

extension RegistrationReport {
    /// Loads the files and computes the registration (see `RegistrationReport.compute(head:mri:…)`).
    static func compute(
        mriPath: String, headPath: String, targetsPath: String?, fleMM: Double?, scalpPath: String?,
        headSurfacePath: String?, useCommonLabels: Bool
    ) throws -> RegistrationReport {
        let mri = try MarkupsFile.load(path: mriPath).allPoints
        let head = try MarkupsFile.load(path: headPath).allPoints
        let targets = try targetsPath.map { try MarkupsFile.load(path: $0).allPoints } ?? []
        var surface: (MeshIndex, [Vector3])?
        if let scalpPath, let headSurfacePath {
            let mesh = try MeshFile.read(path: scalpPath)
            let index: MeshIndex
            do { index = try MeshIndex(mesh: mesh) } catch { throw CLIError("\(scalpPath): \(error)") }
            surface = (index, try MarkupsFile.load(path: headSurfacePath).allPoints.map(\.position))
        }
        do {
            return try RegistrationReport.compute(
                head: head, mri: mri, targets: targets, fleMM: fleMM, scalp: surface?.0, headSurfacePoints: surface?.1 ?? [],
                useCommonLabels: useCommonLabels)
        } catch {
            throw CLIError("\(error)")
        }
    }

    struct JSON: Encodable {
        struct Fiducial: Encodable { var name: String; var residualMM: Double }
        struct Target: Encodable { var name: String; var predictedTREMM: Double }
        struct Shift: Encodable { var name: String; var shiftMM: Double }
        struct Surface: Encodable {
            var rmsBeforeMM: Double
            var rmsAfterMM: Double
            var iterations: Int
            var inliers: Int
            var outliers: Int
            var converged: Bool
            /// How far the refinement moved each fiducial (its head point mapped before vs after).
            var fiducialShifts: [Shift]
            /// How far the refinement moved each target (MRI point, head position re-mapped).
            var targetShifts: [Shift]
        }
        var headToMRI: Matrix4Rows
        var freMM: Double
        var fiducials: [Fiducial]
        var targets: [Target]?
        var surface: Surface?
        var warnings: [String]
    }

    var json: JSON {
        JSON(
            headToMRI: self.headToMRI.matrix4x4, freMM: self.freMM,
            fiducials: self.residuals.map { .init(name: $0.name, residualMM: $0.residualMM) },
            targets: self.targetTRE.isEmpty ? nil : self.targetTRE.map { .init(name: $0.name, predictedTREMM: $0.predictedTREMM) },
            surface: self.refinement.map {
                .init(rmsBeforeMM: $0.rmsBeforeMM, rmsAfterMM: $0.rmsAfterMM, iterations: $0.iterations, inliers: $0.inliers,
                      outliers: $0.outliers, converged: $0.converged,
                      fiducialShifts: $0.fiducialShifts.map { .init(name: $0.label, shiftMM: $0.shiftMM) },
                      targetShifts: $0.targetShifts.map { .init(name: $0.label, shiftMM: $0.shiftMM) })
            },
            warnings: self.warnings)
    }

    func record(createdAt: String) -> RegistrationRecord {
        RegistrationRecord(
            createdAt: createdAt, headToMRI: self.headToMRI, freMM: self.freMM, fleMM: self.fleMM,
            fiducialResiduals: self.residuals.map { .init(name: $0.name, residualMM: $0.residualMM) },
            surface: self.refinement.map {
                .init(rmsBeforeMM: $0.rmsBeforeMM, rmsAfterMM: $0.rmsAfterMM, iterations: $0.iterations, inliers: $0.inliers)
            },
            notes: self.warnings.isEmpty ? nil : self.warnings.joined(separator: "\n"))
    }

    var text: String {
        var lines: [String] = []
        let n = self.residuals.count
        lines.append("Fiducial registration: \(n) fiducials, head → MRI")
        var fre = "  FRE \(fixed(self.freMM)) mm"
        if let fle = self.fleMM {
            fre += " (expected \(fixed(self.fiducial.expectedFREMM(fleMM: fle))) mm for FLE \(fixed(fle)) mm)"
        }
        if self.refinement != nil { fre += ", after surface refinement" }
        lines.append(fre)
        let width = max(8, self.residuals.map(\.name.count).max() ?? 0)
        for r in self.residuals {
            lines.append("  " + r.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  \(fixed(r.residualMM)) mm")
        }
        if let s = self.refinement {
            lines.append(
                "Surface refinement: \(s.inliers) of \(s.inliers + s.outliers) points used, \(s.iterations) iterations"
                    + (s.converged ? "" : " (not converged)"))
            lines.append("  RMS point-to-scalp distance \(fixed(s.rmsBeforeMM)) mm → \(fixed(s.rmsAfterMM)) mm")
            if let worst = s.fiducialShifts.max(by: { $0.shiftMM < $1.shiftMM }) {
                lines.append("  moved fiducials by up to \(fixed(worst.shiftMM)) mm (\(worst.label))")
            }
            for t in s.targetShifts {
                lines.append("  moved target \(t.label) by \(fixed(t.shiftMM)) mm")
            }
        }
        if !self.targetTRE.isEmpty, let fle = self.fleMM {
            lines.append("Predicted TRE (FLE \(fixed(fle)) mm, fiducial configuration):")
            let w = max(8, self.targetTRE.map(\.name.count).max() ?? 0)
            for t in self.targetTRE {
                lines.append("  " + t.name.padding(toLength: w, withPad: " ", startingAt: 0) + "  \(fixed(t.predictedTREMM)) mm")
            }
        }
        lines.append("headToMRI:")
        for row in self.headToMRI.matrix4x4 {
            lines.append("  [" + row.map { String(format: "%10.5f", $0) }.joined(separator: " ") + "]")
        }
        for w in self.warnings { lines.append("warning: \(w)") }
        return lines.joined(separator: "\n")
    }
}

extension MarkupsFile {
    /// Every defined control point of every markup, in RAS mm.
    var allPoints: [LabeledPoint] { self.markups.flatMap(\.points) }
}
