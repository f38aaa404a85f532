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
        subcommands: [PivotCommand.self]
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
        var poses: String

        @Flag(help: "Print one JSON object.")
        var json = false

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
            let transforms = try PoseCSV.load(path: self.poses)
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
}
