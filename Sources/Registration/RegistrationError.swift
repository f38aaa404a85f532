import Geometry

/// Which of the two point lists of a paired-point registration a problem was found in.
public enum RegistrationSide: String, Sendable, Equatable, CustomStringConvertible {
    /// The moving points, in tracker or head-reference space.
    case head
    /// The fixed points, in MRI space.
    case mri

    public var description: String {
        switch self {
        case .head: return "head"
        case .mri: return "MRI"
        }
    }
}

/// Axis conventions of an anatomical (MRI) space, used to check that the MRI fiducials are not
/// mirrored: the patient's right must lie towards `+x` in RAS and towards `−x` in LPS.
public enum AnatomicalAxes: String, Sendable, Equatable, CustomStringConvertible {
    /// x → patient right, y → anterior, z → superior (NIfTI/FreeSurfer/SimNIBS scanner space).
    case ras
    /// x → patient left, y → posterior, z → superior (DICOM/ITK patient space).
    case lps

    public var description: String { self == .ras ? "RAS" : "LPS" }

    /// The unit vector pointing to the patient's right in these axes.
    public var patientRight: Vector3 { self == .ras ? Vector3(1, 0, 0) : Vector3(-1, 0, 0) }
}

/// Why a registration or calibration could not be computed.
///
/// The one public error of the `Registration` module. Every case says what was found and what
/// was required; `description` is a complete sentence meant for the operator. Cases carry the
/// measured values and the thresholds they failed, so callers can show or log them.
///
/// Equality compares payloads exactly; a `.nan` payload (e.g. in `.invalidWeight`) is never equal
/// to anything, as usual for floating point.
public enum RegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Paired-point registration

    /// Fewer fiducial pairs than the rotation needs (3).
    case tooFewPairs(found: Int, required: Int)
    /// Enough pairs, but fewer than `required` of them have a positive weight.
    case tooFewWeightedPairs(positive: Int, required: Int, zeroWeightLabels: [String])
    /// Two points on one side have the same label (compared case-insensitively after trimming).
    case duplicateLabel(String, side: RegistrationSide)
    /// Labels present on only one side (each list in its side's input order).
    case unmatchedLabels(onlyInHead: [String], onlyInMRI: [String])
    /// A coordinate is NaN or infinite.
    case nonFiniteCoordinate(label: String, side: RegistrationSide)
    /// A weight is negative, NaN or infinite.
    case invalidWeight(label: String, value: Double)
    /// A weight was given for a label that is in neither point list.
    case weightForUnknownLabel(String)
    /// Two weight keys name the same label (case-insensitively, after trimming).
    case duplicateWeightLabel(String)
    /// Every weight is zero.
    case allWeightsZero
    /// The fiducials on one side lie on (or very near) a line, so the rotation about that line is
    /// undetermined. Raised when `singularValueRatio < ratioThreshold` or
    /// `lineDistanceRMSMM < distanceThresholdMM`.
    case collinearFiducials(
        side: RegistrationSide, singularValueRatio: Double, lineDistanceRMSMM: Double,
        ratioThreshold: Double, distanceThresholdMM: Double)
    /// The best fit allowing a reflection is far better than the best rotation: the fiducials are
    /// probably mirrored (e.g. LPA and RPA swapped on one side).
    case mirroredFiducials(
        rotationFREMM: Double, reflectionFREMM: Double, ratioThreshold: Double, minimumRotationFREMM: Double)
    /// In the declared MRI axes the fiducial labelled RPA is not to the patient's right of LPA.
    /// `lateralOffsetMM` is (RPA − LPA) projected on the patient-right direction.
    case mriFiducialsMirrored(axes: AnatomicalAxes, lateralOffsetMM: Double)

    // MARK: Pivot calibration

    /// Fewer tracked poses than the calibration requires.
    case tooFewPoses(found: Int, required: Int)
    /// A pose has a NaN or infinite entry.
    case nonFinitePose(index: Int)
    /// The poses do not rotate enough about two independent axes. `spansDegrees` are the angular
    /// ranges about the principal axes of the orientation scatter (largest first);
    /// `conditionRatio` is the smallest over the largest eigenvalue of the tip normal matrix.
    case insufficientPivotRotation(
        spansDegrees: Vector3, requiredSpanDegrees: Double, conditionRatio: Double, requiredConditionRatio: Double)
    /// Outlier rejection would discard more than the allowed fraction of the poses.
    case tooManyPivotOutliers(rejected: Int, total: Int, maximumFraction: Double, thresholdMM: Double)

    public var description: String {
        switch self {
        case .tooFewPairs(let found, let required):
            return "paired-point registration needs at least \(required) fiducial pairs; got \(found)"
        case .tooFewWeightedPairs(let positive, let required, let zero):
            return "paired-point registration needs at least \(required) fiducial pairs with a positive weight; "
                + "got \(positive) (weight 0: \(formatLabels(zero)))"
        case .duplicateLabel(let label, let side):
            return "the \(side) fiducials contain the label \"\(label)\" more than once "
                + "(labels are compared ignoring case and surrounding spaces)"
        case .unmatchedLabels(let onlyInHead, let onlyInMRI):
            var parts: [String] = []
            if !onlyInMRI.isEmpty { parts.append("missing from the head fiducials: \(formatLabels(onlyInMRI))") }
            if !onlyInHead.isEmpty { parts.append("missing from the MRI fiducials: \(formatLabels(onlyInHead))") }
            return "the head and MRI fiducial labels do not match; " + parts.joined(separator: "; ")
        case .nonFiniteCoordinate(let label, let side):
            return "the \(side) fiducial \"\(label)\" has a coordinate that is not a finite number"
        case .invalidWeight(let label, let value):
            return "the weight of fiducial \"\(label)\" is \(formatSignificant(value)); "
                + "weights must be finite and not negative"
        case .weightForUnknownLabel(let label):
            return "a weight was given for \"\(label)\", which is neither a head nor an MRI fiducial"
        case .duplicateWeightLabel(let label):
            return "the weights name the fiducial \"\(label)\" more than once"
        case .allWeightsZero:
            return "all fiducial weights are zero"
        case .collinearFiducials(let side, let ratio, let rms, let ratioThreshold, let distanceThreshold):
            return "the \(side) fiducials are (nearly) collinear, so the rotation about their line is undetermined: "
                + "RMS distance from their best-fit line \(formatFixed(rms)) mm (minimum \(formatSignificant(distanceThreshold)) mm), "
                + "σ₂/σ₁ \(formatSignificant(ratio)) (minimum \(formatSignificant(ratioThreshold))); "
                + "use fiducials that span a wide triangle"
        case .mirroredFiducials(let rotationFRE, let reflectionFRE, let ratio, let minimum):
            return "fiducials look mirrored (e.g. LPA and RPA swapped): the best rotation leaves FRE "
                + "\(formatFixed(rotationFRE)) mm but a mirror image fits with FRE \(formatFixed(reflectionFRE)) mm "
                + "(flagged when the mirror FRE is below \(formatSignificant(ratio)) × the rotation FRE and the rotation "
                + "FRE is at least \(formatSignificant(minimum)) mm); check the fiducial labels on both sides"
        case .mriFiducialsMirrored(let axes, let offset):
            return "MRI fiducials look mirrored (e.g. LPA and RPA swapped): in \(axes) coordinates RPA must lie to the "
                + "patient's right of LPA, but (RPA − LPA) along the patient's right is \(formatFixed(offset)) mm; "
                + "check the MRI fiducials and the MRI axis convention"
        case .tooFewPoses(let found, let required):
            return "pivot calibration needs at least \(required) poses; got \(found)"
        case .nonFinitePose(let index):
            return "pivot pose \(index) has an entry that is not a finite number"
        case .insufficientPivotRotation(let spans, let required, let ratio, let requiredRatio):
            return "pivot poses do not span enough rotation: angular ranges about the principal axes are "
                + "\(formatFixed(spans.x, decimals: 1))°, \(formatFixed(spans.y, decimals: 1))° and "
                + "\(formatFixed(spans.z, decimals: 1))° (at least \(formatSignificant(required))° about each of two axes "
                + "needed), conditioning \(formatSignificant(ratio)) (minimum \(formatSignificant(requiredRatio))); "
                + "pivot the pointer in two directions"
        case .tooManyPivotOutliers(let rejected, let total, let fraction, let threshold):
            return "pivot calibration would reject \(rejected) of \(total) poses (more than "
                + "\(formatFixed(fraction * 100, decimals: 0)) %) with tip residual above \(formatFixed(threshold)) mm; "
                + "the pointer tip probably slipped in the divot: record again"
        }
    }
}
