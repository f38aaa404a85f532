import Geometry

/// A head-to-MRI registration as CoilNav reports it: the fiducial solution, the optional surface
/// refinement, the final transform's FRE and residuals, predicted TRE at each target, and warnings.
/// Computed from points (no files), so `coilnav register`, the demo and the server share it.
public struct RegistrationReport: Sendable {
    public var fiducial: PointRegistrationResult
    public var refinement: SurfaceRefinementResult?
    /// The final transform (refined when refinement ran).
    public var headToMRI: RigidTransform
    /// FRE and residuals of the final transform on the fiducials.
    public var freMM: Double
    public var residuals: [(name: String, residualMM: Double)]
    public var targetTRE: [(name: String, predictedTREMM: Double)]
    public var fleMM: Double?
    public var warnings: [String]

    /// InVesalius and common practice flag a fiducial registration above 3 mm.
    public static let freWarningMM = 3.0

    /// Registers `head` fiducials to `mri` fiducials (matched by label), refines on the scalp when
    /// `scalp` and `headSurfacePoints` are given, and predicts TRE at `targets` when `fleMM` is given.
    public static func compute(
        head: [LabeledPoint], mri: [LabeledPoint], targets: [LabeledPoint], fleMM: Double?, scalp: MeshIndex?,
        headSurfacePoints: [Vector3], useCommonLabels: Bool
    ) throws(RegistrationReportError) -> RegistrationReport {
        var options = PointRegistration.Options()
        if useCommonLabels { options.labelMatching = .intersection }
        let fiducial: PointRegistrationResult
        do {
            fiducial = try PointRegistration.register(head: head, mri: mri, options: options)
        } catch {
            throw RegistrationReportError("registration refused: \(error)")
        }
        var warnings: [String] = []
        if !fiducial.unpairedLabels.isEmpty {
            warnings.append("labels present on one side only, left out: \(fiducial.unpairedLabels.joined(separator: ", "))")
        }
        var headToMRI = fiducial.headToMRI
        var refinement: SurfaceRefinementResult?
        if let index = scalp, !headSurfacePoints.isEmpty {
            let points = headSurfacePoints
            let pairedHead = head.filter { h in fiducial.residuals.contains { $0.label.lowercased() == h.label.lowercased() } }
            do {
                let r = try SurfaceRefinement.refine(
                    initialHeadToMRI: fiducial.headToMRI, headSurfacePoints: points, mesh: index,
                    fiducialsInHead: pairedHead, targetsInMRI: targets)
                refinement = r
                headToMRI = r.headToMRI
                warnings += r.warnings
            } catch {
                throw RegistrationReportError("surface refinement failed: \(error)")
            }
        }
        // Residuals of the final transform, in MRI-list order.
        var residuals: [(String, Double)] = []
        var sumSquares = 0.0
        let headByLabel = Dictionary(head.map { ($0.label.lowercased(), $0.position) }, uniquingKeysWith: { a, _ in a })
        for r in fiducial.residuals {
            guard let h = headByLabel[r.label.lowercased()],
                let m = fiducial.fiducialsInMRI.first(where: { $0.label == r.label })
            else { continue }
            let d = headToMRI.apply(to: h).distance(to: m.position)
            residuals.append((r.label, d))
            sumSquares += d * d
        }
        let fre = refinement == nil ? fiducial.freMM : (sumSquares / Double(max(residuals.count, 1))).squareRoot()
        if refinement == nil { residuals = fiducial.residuals.map { ($0.label, $0.residualMM) } }
        if fre > Self.freWarningMM {
            warnings.append("FRE \(formatFixed(fre)) mm is above \(formatFixed(Self.freWarningMM, decimals: 1)) mm: check the fiducials before navigating")
        }
        var tre: [(String, Double)] = []
        if let fleMM {
            for t in targets { tre.append((t.label, fiducial.predictedTREMM(at: t.position, fleMM: fleMM))) }
        } else if !targets.isEmpty {
            warnings.append("targets given without --fle-mm: no TRE prediction (it scales with the fiducial localisation error)")
        }
        return RegistrationReport(
            fiducial: fiducial, refinement: refinement, headToMRI: headToMRI, freMM: fre, residuals: residuals,
            targetTRE: tre, fleMM: fleMM, warnings: warnings)
    }
}

/// Why `RegistrationReport.compute` refused.
public struct RegistrationReportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}
