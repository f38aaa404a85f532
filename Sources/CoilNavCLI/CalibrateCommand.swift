import ArgumentParser
import Foundation
import Formats
import Geometry
import Registration

/// `coilnav calibrate`: tool calibrations.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Calibrate tracked tools.",
        subcommands: [PivotCommand.self, CoilCommand.self]
    )

    struct PivotCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pivot",
            abstract: "Pivot calibration of a pointer tip from recorded marker poses.",
            discussion: """
                POSES.csv holds one markerToTracker pose per row: q0,qx,qy,qz,tx,ty,tz (NDI quaternion \
                order, mm), with an optional header line. The pointer is pivoted about a fixed point \
                (a divot) on at least two axes. Reported: the tip in the marker frame, the pivot in the \
                tracker frame and rmsMM, the RMS over poses of the 3-D distance between each pose's tip \
                and the pivot (√3 × the per-axis RMS that scikit-surgery reports). Slipped samples are \
                rejected and listed.
                """
        )

        @Option(help: ArgumentHelp("Marker poses (CSV).", valueName: "POSES.csv"))
        var poses: String?

        @Flag(help: "Print one JSON object.")
        var json = false

        @Option(help: ArgumentHelp("Guided pivot calibration with a running `coilnav serve` (its JSON-lines port).", valueName: "HOST:PORT"))
        var server: String?

        @Option(help: "With --server: the pointer's tool name.")
        var tool: String = "pointer"

        @Option(help: "With --server: distinct tracker frames captured while pivoting.")
        var frames: Int = 240

        @Option(name: .customLong("max-rms-mm"), help: "With --server: refuse a result whose RMS tip distance is above this, mm.")
        var maxRMSMM: Double = 1.0

        @Option(help: "With --server: the tool's serial number, recorded in the file.")
        var serial: String?

        @Option(help: ArgumentHelp("With --server: where to write the pointer calibration (default Calibration/pointers/TOOL.json).", valueName: "FILE"))
        var out: String?

        func validate() throws {
            if (self.poses == nil) == (self.server == nil) {
                throw ValidationError("give --poses POSES.csv (from recorded poses) or --server HOST:PORT (guided, with a running coilnav serve)")
            }
            if !(10...1000).contains(self.frames) { throw ValidationError("--frames must be 10…1000, got \(self.frames)") }
        }

        struct Output: Encodable {
            var tipInMarkerMM: [Double]
            var pivotInTrackerMM: [Double]
            var rmsMM: Double
            var poses: Int
            var posesUsed: Int
            var rejectedPoses: [Int]
            var maxResidualMM: Double
            var rotationSpanDegrees: Double
        }

        func run() throws {
            if let address = self.server {
                let connection = try ServerConnection(address)
                defer { connection.close() }
                let out = self.out ?? "Calibration/pointers/\(self.tool).json"
                try CalibrateCommand.makeParent(of: out)
                let saved = try CalibrateCommand.guided(connection).pivot(
                    tool: self.tool, frames: self.frames, maxRMSMM: self.maxRMSMM, serial: self.serial, out: out)
                if !saved { throw ExitCode(1) }
                return
            }
            guard let posesPath = self.poses else { return }
            let transforms = try PoseCSV.load(path: posesPath)
            let r: PivotCalibrationResult
            do {
                r = try PivotCalibration.calibrate(markerToTracker: transforms)
            } catch {
                throw CLIError("pivot calibration refused: \(error)")
            }
            if self.json {
                try JSONOutput.print(
                    Output(
                        tipInMarkerMM: array(r.tipInMarkerMM), pivotInTrackerMM: array(r.pivotInTrackerMM), rmsMM: r.rmsMM,
                        poses: transforms.count, posesUsed: r.posesUsed, rejectedPoses: r.rejectedPoseIndices,
                        maxResidualMM: r.maxResidualMM, rotationSpanDegrees: r.rotationSpanDegrees))
            } else {
                let t = r.tipInMarkerMM, p = r.pivotInTrackerMM
                print("Pivot calibration: \(r.posesUsed) of \(transforms.count) poses used, rotation span \(fixed(r.rotationSpanDegrees, 1))°")
                print("  tip in marker frame   (\(fixed(t.x, 3)), \(fixed(t.y, 3)), \(fixed(t.z, 3))) mm, length \(fixed(t.length, 2)) mm")
                print("  pivot in tracker      (\(fixed(p.x, 3)), \(fixed(p.y, 3)), \(fixed(p.z, 3))) mm")
                print("  RMS tip distance      \(fixed(r.rmsMM, 3)) mm (3-D), max \(fixed(r.maxResidualMM, 3)) mm")
                if !r.rejectedPoseIndices.isEmpty {
                    print("  rejected poses (0-based rows): \(r.rejectedPoseIndices.map(String.init).joined(separator: ", "))")
                }
            }
        }
    }

    static func guided(_ connection: ServerConnection) -> GuidedCalibration {
        GuidedCalibration(
            server: connection, input: { readLine(strippingNewline: true) },
            output: { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }, now: { Date() })
    }

    static func makeParent(of path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        guard !dir.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create \(dir): \(error.localizedDescription)")
        }
    }

    struct CoilCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coil",
            abstract: "Guided coil calibration with a running coilnav serve: pointer marks or a calibration plate.",
            discussion: """
                three-point: touch each mark of the coil model (--model, marks in the coil's SimNIBS \
                frame) with the calibrated pointer (--pointer-calibration) while the coil's marker is \
                visible; the marks measured in the marker's frame are registered to the model: \
                coilToMarker, refused above --max-fre-mm. plate: seat the coil in the calibration plate \
                (--plate: the plate's tool and coilToPlate); coilToMarker = markerToTracker⁻¹ · \
                plateToTracker · coilToPlate, averaged over the frames, refused when the coil moves more \
                than --max-spread-mm. Captures need every tool visible in every frame; the result is \
                written as a coilnav-coil-calibration file with its residual, date and serial.
                """
        )

        @Option(help: ArgumentHelp("The server's JSON-lines port.", valueName: "HOST:PORT"))
        var server: String

        @Option(help: ArgumentHelp("three-point or plate.", valueName: "METHOD"))
        var method: String

        @Option(help: ArgumentHelp("Coil model (coilnav-coil-model) for three-point.", valueName: "FILE"))
        var model: String?

        @Option(help: ArgumentHelp("Calibration plate (coilnav-calibration-plate) for plate.", valueName: "FILE"))
        var plate: String?

        @Option(name: .customLong("pointer-calibration"), help: ArgumentHelp("The pointer's calibration, for three-point.", valueName: "FILE"))
        var pointerCalibration: String?

        @Option(name: .customLong("coil-tool"), help: "The coil marker's tool name.")
        var coilTool: String = "coil"

        @Option(help: "Distinct tracker frames per capture.")
        var frames: Int = 10

        @Option(name: .customLong("max-fre-mm"), help: "three-point: refuse a fit whose FRE is above this, mm.")
        var maxFREMM: Double = 1.0

        @Option(name: .customLong("max-spread-mm"), help: "Refuse a capture whose tip (three-point) or coil (plate) moved more than this, mm.")
        var maxSpreadMM: Double = 0.5

        @Option(help: "The coil's serial number, recorded in the file.")
        var serial: String?

        @Option(help: ArgumentHelp("Where to write the coil calibration (default Calibration/coils/COILTOOL.json).", valueName: "FILE"))
        var out: String?

        func validate() throws {
            switch self.method {
            case "three-point":
                if self.model == nil || self.pointerCalibration == nil {
                    throw ValidationError("--method three-point needs --model FILE and --pointer-calibration FILE")
                }
            case "plate":
                if self.plate == nil { throw ValidationError("--method plate needs --plate FILE") }
            default:
                throw ValidationError("--method must be three-point or plate, got \"\(self.method)\"")
            }
            if !(1...1000).contains(self.frames) { throw ValidationError("--frames must be 1…1000, got \(self.frames)") }
        }

        func run() throws {
            let connection = try ServerConnection(self.server)
            defer { connection.close() }
            let out = self.out ?? "Calibration/coils/\(self.coilTool).json"
            try CalibrateCommand.makeParent(of: out)
            let flow = CalibrateCommand.guided(connection)
            let saved: Bool
            if self.method == "plate", let platePath = self.plate {
                let plate: CalibrationPlate
                do { plate = try CalibrationPlate.load(path: platePath) } catch { throw CLIError("\(error)") }
                saved = try flow.coilPlate(
                    coilTool: self.coilTool, plate: plate, frames: max(self.frames, 30), maxSpreadMM: self.maxSpreadMM,
                    serial: self.serial, out: out)
            } else if let modelPath = self.model, let pointerPath = self.pointerCalibration {
                let model: CoilModel
                let pointer: PointerCalibration
                do {
                    model = try CoilModel.load(path: modelPath)
                    pointer = try PointerCalibration.load(path: pointerPath)
                } catch {
                    throw CLIError("\(error)")
                }
                saved = try flow.coilThreePoint(
                    coilTool: self.coilTool, pointerTool: pointer.tool, tipMM: pointer.tipMM, model: model, frames: self.frames,
                    maxSpreadMM: self.maxSpreadMM, maxFREMM: self.maxFREMM, serial: self.serial, out: out)
            } else {
                saved = false
            }
            if !saved { throw ExitCode(1) }
        }
    }
}
