import ArgumentParser
import Foundation
import Formats
import Geometry
import Planning
import Registration

/// `coilnav demo`: the demo patient end to end, with no hardware.
///
/// Today it runs everything that exists offline: the demo plan (fsaverage scalp, fiducials and
/// three DLPFC targets with their coil poses), a registration of the simulated pointer
/// digitisation, refined on the simulated scalp sweep, and how close that lands to the ground
/// truth the simulation used. The live part — mock tracker, server and terminal readout — joins
/// it as those pieces land.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the demo patient: plan, registration and coil placement, no hardware needed.")

    @Option(help: ArgumentHelp("The demo folder; default Mock/demo.", valueName: "DIR"))
    var dir: String?

    func run() throws {
        let dir = try self.dir ?? DataLocator.path("Mock/demo")
        func path(_ f: String) -> String { (dir as NSString).appendingPathComponent(f) }
        let plan = try Plan.load(path: path("plan.json"))
        print("CoilNav demo — subject \(plan.subject.id): \(plan.coordinateSystem.mri)")
        print("")
        let report = try RegistrationReport.compute(
            mriPath: path("mri-fiducials.mrk.json"), headPath: path("head-fiducials.mrk.json"),
            targetsPath: path("targets.mrk.json"), fleMM: 1.0, scalpPath: path("scalp.ply"),
            headSurfacePath: path("head-surface.mrk.json"), useCommonLabels: false)
        print(report.text)
        print("")
        let truthJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path("ground-truth.json"))))
        if let obj = truthJSON as? [String: Any], let rows = obj["headToMRI"] as? [[Double]] {
            let truth = try RigidTransform(matrix4x4: rows)
            print("Against the simulation's ground truth:")
            for t in plan.targets {
                let p = t.cortexMM ?? t.coilToMRI.translation
                // Where a point the truth puts at p lands under the registration.
                let err = report.headToMRI.apply(to: truth.inverse.apply(to: p)).distance(to: p)
                print("  \(t.name): registration error at the target \(fixed(err)) mm")
            }
            print("")
        }
        let index = try PlanCommand.scalpIndex(path("scalp.ply"))
        let frame = try PlanCommand.headFrame(from: plan.fiducials)
        print("Coil placements (SimNIBS coil frame; handle from the posterior midline):")
        for t in plan.targets {
            guard let cortex = t.cortexMM else { continue }
            let p = try CoilPlacement.place(target: cortex, scalp: index, handleAngleDegrees: t.handleAngleDegrees ?? 45, headFrame: frame)
            print(PlanCommand.describe(p, name: t.name))
        }
        print("")
        print("Next in the demo, as the tracker and server land: the mock tracker streams the coil, the server computes")
        print("the coil-to-target error every frame, and `coilnav watch` shows it turning ON TARGET.")
    }
}
