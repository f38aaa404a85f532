import Foundation
import Geometry
import Testing

@testable import Formats

/// The exports of `PulseFixtures.pulses`, checked against hand-derived text.
@Suite struct PulseExportTests {
    static let csvHeader =
        "index,timeNanoseconds,wallClock,targetName,isValid,invalidReasons,frameBefore,frameAfter,interpolationFraction,"
        + "coilToMRI_m00,coilToMRI_m01,coilToMRI_m02,coilToMRI_m03,coilToMRI_m10,coilToMRI_m11,coilToMRI_m12,coilToMRI_m13,"
        + "coilToMRI_m20,coilToMRI_m21,coilToMRI_m22,coilToMRI_m23,coilToMRI_m30,coilToMRI_m31,coilToMRI_m32,coilToMRI_m33,"
        + "coilToTarget_m00,coilToTarget_m01,coilToTarget_m02,coilToTarget_m03,coilToTarget_m10,coilToTarget_m11,coilToTarget_m12,coilToTarget_m13,"
        + "coilToTarget_m20,coilToTarget_m21,coilToTarget_m22,coilToTarget_m23,coilToTarget_m30,coilToTarget_m31,coilToTarget_m32,coilToTarget_m33,"
        + "distanceMM,inPlaneAtCoilMM,inPlaneAtCortexMM,depthMM,tiltDegrees,twistDegrees,onTarget,intensityPercentMSO,label"

    static let csv =
        csvHeader + "\n"
        + "1,5000000000,2026-11-22T03:10:00.123Z,L-DLPFC,true,,100,101,0.25,"
        + "0,-1,0,10,1,0,0,20,0,0,1,30,0,0,0,1,"
        + "1,0,0,0,0,1,0,1.5,0,0,1,-2,0,0,0,1,"
        + "2.5,1.5,1.5,-2,0,0,true,65,first\n"
        + "2,5250000000,2026-11-22T03:10:00.373Z,L-DLPFC,false,coil missing,112,," + String(repeating: ",", count: 38) + ",false,65,\n"
        + "3,6000500000,2026-11-22T03:10:01.123Z,,true,,,,"
        + ",1,0,0,-40.5,0,0,-1,12.25,0,1,0,60,0,0,0,1"
        + String(repeating: ",", count: 22) + ",false,,\"a, \"\"quoted\"\" label\"\n"

    @Test func csvHasTheExactText() {
        #expect(PulseExport.csvColumns.count == 50)
        #expect(PulseExport.csv(PulseFixtures.pulses) == Self.csv)
        #expect(PulseExport.csv([]) == Self.csvHeader + "\n")
    }

    @Test func csvReadsBackExactly() throws {
        #expect(try PulseExport.parseCSV(Data(Self.csv.utf8), source: "p.csv") == PulseFixtures.pulses)
        // Awkward numbers, a label with a line break and several reasons survive too.
        let pose = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8).normalized, angleRadians: 0.35), translation: Vector3(12.1, -35.7, 48.3))
        let pulses = [
            PulseRecord(
                index: 9, timeNanoseconds: UInt64.max, wallClock: "2026-11-22T23:59:59.999Z", targetName: "M1, hand", isValid: true,
                coilToMRI: pose, coilToTarget: pose.inverse, distanceMM: 0.1 + 0.2, depthMM: -1e-7, onTarget: true, label: "two\nlines"),
            PulseRecord(index: 10, timeNanoseconds: 1, wallClock: "2026-11-23T00:00:00.000Z", isValid: false, invalidReasons: ["head missing", "stale frame"]),
        ]
        let text = PulseExport.csv(pulses)
        #expect(try PulseExport.parseCSV(Data(text.utf8), source: "p.csv") == pulses)
    }

    @Test func csvReadingErrorsNameLineAndColumn() {
        func error(_ text: String) -> String? {
            formatError { () throws(FileFormatError) in try PulseExport.parseCSV(Data(text.utf8), source: "p.csv") }?.description
        }
        #expect(error(Self.csv.replacingOccurrences(of: "0.25,", with: "x,"))
            == #"p.csv: line 2: interpolationFraction: expected a finite number, got "x""#)
        #expect(error(Self.csv.replacingOccurrences(of: ",true,65,first", with: ",yes,65,first"))
            == #"p.csv: line 2: onTarget: expected true or false, got "yes""#)
        #expect(error(Self.csv.replacingOccurrences(of: "0,-1,0,10,", with: "0,-2,0,10,"))?
            .hasPrefix("p.csv: line 2: coilToMRI: the rotation part is not orthonormal") == true)
        #expect(error(Self.csv.replacingOccurrences(of: "1,0,0,-40.5", with: ",0,0,-40.5"))
            == "p.csv: line 4: coilToMRI: expected all 16 matrix cells or none, got 15")
        #expect(error(Self.csv.replacingOccurrences(of: ",coil missing,", with: ",,"))
            == "p.csv: line 3: invalidReasons: an invalid pulse needs at least one reason")
        #expect(error(Self.csv.replacingOccurrences(of: "\n2,5250000000", with: "\n2,5250000000,"))
            == "p.csv: line 3: row: expected 50 fields, got 51")
        #expect(error(Self.csv.replacingOccurrences(of: "index,time", with: "Index,time"))
            == #"p.csv: line 1: header column 1: expected "index", got "Index""#)
    }

    @Test func axisConversionsUndoAsSimNIBSReadsThem() {
        // SimNIBS nnav.py reads Localite as  M_simnibs = flip_space · M_localite · F  and Brainsight as
        // M_simnibs = M_brainsight · diag(−1, 1, −1).
        let pose = RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8).normalized, angleRadians: 1.1), translation: Vector3(-41.5, 22.25, 63))
        func back(_ m: [[Double]], left: Matrix3, right: Matrix3) -> RigidTransform {
            let t = PulseRecord.transform(rowMajor: m)
            return RigidTransform(rotation: left * t.rotation * right, translation: left * t.translation)
        }
        let lps = Matrix3.diagonal(Vector3(-1, -1, 1))
        for (m, left, right) in [
            (PulseExport.localiteMatrix(pose, space: .ras), Matrix3.identity, PulseExport.localiteAxes),
            (PulseExport.localiteMatrix(pose, space: .lps), lps, PulseExport.localiteAxes),
            (PulseExport.brainsightMatrix(pose), Matrix3.identity, PulseExport.brainsightAxes),
        ] {
            let (dt, dr) = back(m, left: left, right: right).difference(to: pose)
            #expect(dt < 1e-12 && dr < 1e-12)
        }
        // Localite's x axis is the coil's SimNIBS z (into the head); its z axis is SimNIBS x.
        let l = PulseExport.localiteMatrix(PulseFixtures.rz90, space: .ras)
        #expect(l == [[0, 1, 0, 10], [0, 0, 1, 20], [1, 0, 0, 30], [0, 0, 0, 1]])
        #expect(PulseExport.localiteMatrix(PulseFixtures.rz90, space: .lps) == [[0, -1, 0, -10], [0, 0, -1, -20], [1, 0, 0, 30], [0, 0, 0, 1]])
        #expect(PulseExport.brainsightMatrix(PulseFixtures.rz90) == [[0, -1, 0, 10], [-1, 0, 0, 20], [0, 0, -1, 30], [0, 0, 0, 1]])
    }

    static let localite = """
        <?xml version="1.0" encoding="UTF-8"?>
        <TriggerMarkerList coordinateSpace="RAS" isOnlineReading="false" startTime="03:10:00.123">
            <!--Written by CoilNav from a pulse log. Positions: the MRI's RAS coordinates in millimetres; coil axes: Localite's (x = SimNIBS z, y = -SimNIBS y, z = SimNIBS x). recordingTime: milliseconds since the first pulse; startTime: its UTC time of day.-->
            <ResponseParameters selectedResponseChannel="0">
                <responseDescription id="response" maxValue="51200.0"
                    minValue="-51200.0" name="Response" unit="uV"/>
                <responseDescription id="valueA" maxValue="200.0" minValue="0.0"
                    name="Value A (di/dt)" unit="A/us"/>
                <responseDescription id="amplitudeA" maxValue="100.0"
                    minValue="0.0" name="Amplitude A" unit="%"/>
            </ResponseParameters>
            <TriggerMarker color="#ffafaf" description="first" recordingTime="0"
                selected="false" set="true" visibility="true">
                <ResponseValues>
                    <Value key="valueA" response="NaN"/>
                    <Value key="response" response="NaN"/>
                    <Value key="amplitudeA" response="65.0"/>
                </ResponseValues>
                <Matrix4D data00="0.0" data01="1.0" data02="0.0" data03="10.0"
                    data10="0.0" data11="0.0" data12="1.0" data13="20.0"
                    data20="1.0" data21="0.0" data22="0.0" data23="30.0"
                    data30="0.0" data31="0.0" data32="0.0" data33="1.0"/>
            </TriggerMarker>
            <!--pulse 2 at 2026-11-22T03:10:00.373Z not exported: no valid coil pose (coil missing)-->
            <TriggerMarker color="#ffafaf" description="a, &quot;quoted&quot; label" recordingTime="1000"
                selected="false" set="true" visibility="true">
                <ResponseValues>
                    <Value key="valueA" response="NaN"/>
                    <Value key="response" response="NaN"/>
                    <Value key="amplitudeA" response="NaN"/>
                </ResponseValues>
                <Matrix4D data00="0.0" data01="0.0" data02="1.0" data03="-40.5"
                    data10="-1.0" data11="0.0" data12="0.0" data13="12.25"
                    data20="0.0" data21="-1.0" data22="0.0" data23="60.0"
                    data30="0.0" data31="0.0" data32="0.0" data33="1.0"/>
            </TriggerMarker>
        </TriggerMarkerList>

        """

    @Test func localiteTriggerMarkersHaveTheExactText() {
        #expect(PulseExport.localiteTriggerMarkers(PulseFixtures.pulses) == Self.localite)
        let lps = PulseExport.localiteTriggerMarkers(Array(PulseFixtures.pulses.prefix(1)), metadata: .init(localiteSpace: .lps))
        #expect(lps.contains(#"<TriggerMarkerList coordinateSpace="LPS" isOnlineReading="false" startTime="03:10:00.123">"#))
        #expect(lps.contains(#"<Matrix4D data00="0.0" data01="-1.0" data02="0.0" data03="-10.0""#))
        #expect(lps.contains(#"data10="0.0" data11="0.0" data12="-1.0" data13="-20.0""#))
        // Comments never hold "--"; attribute text is escaped.
        var p = PulseFixtures.pulses[1]
        p.invalidReasons = ["coil--missing"]
        #expect(PulseExport.localiteTriggerMarkers([p]).contains("<!--pulse 2 at 2026-11-22T03:10:00.373Z not exported: no valid coil pose (coil- -missing)-->"))
        var q = PulseFixtures.pulses[0]
        q.label = "<a & b>\t"
        #expect(PulseExport.localiteTriggerMarkers([q]).contains(#"description="&lt;a &amp; b&gt;&#9;""#))
    }

    static let brainsight =
        """
        # Version: 12
        # Coordinate system: NIfTI:Aligned
        # Created by: CoilNav
        # Units: millimetres, degrees, milliseconds, and microvolts
        # Encoding: UTF-8
        # Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.
        # Sample Name\tSession Name\tIndex\tAssoc. Target\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2\tDist. to Target\tTarget Error\tAngular Error\tTwist Error\tStim. Power\tDate\tTime\tCreation Cause\tCrosshairs Driver\tOffset\tComment\tEMG Start\tEMG End\tEMG Res.\tEMG Channels
        Sample 1\tSession 1\t1\tL-DLPFC\t10.0000\t20.0000\t30.0000\t0.0000\t-1.0000\t0.0000\t-1.0000\t0.0000\t0.0000\t0.0000\t0.0000\t-1.0000\t2.500\t1.500\t0.000\t0.000\t65.000\t2026-11-22\t03:10:00.123\tCoilNav pulse\tCoil 1\t0.000\tfirst\t(null)\t(null)\t(null)\t(null)
        Sample 3\tSession 1\t3\t(null)\t-40.5000\t12.2500\t60.0000\t-1.0000\t0.0000\t0.0000\t0.0000\t0.0000\t1.0000\t0.0000\t1.0000\t0.0000\t(null)\t(null)\t(null)\t(null)\t(null)\t2026-11-22\t03:10:01.123\tCoilNav pulse\tCoil 1\t0.000\ta, "quoted" label\t(null)\t(null)\t(null)\t(null)
        # Pulses left out (no valid coil pose): 1
        # pulse 2 at 2026-11-22T03:10:00.373Z not exported: no valid coil pose (coil missing)

        """

    @Test func brainsightSamplesHaveTheExactText() {
        #expect(PulseExport.brainsightSamples(PulseFixtures.pulses) == Self.brainsight)
        let named = PulseExport.brainsightSamples([], metadata: .init(generator: "CoilNav 0.1.0", sessionName: "x"))
        #expect(named.hasSuffix("# Created by: CoilNav 0.1.0\n# Units: millimetres, degrees, milliseconds, and microvolts\n# Encoding: UTF-8\n"
            + "# Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.\n# "
            + PulseExport.brainsightSampleColumns.joined(separator: "\t") + "\n# Pulses left out (no valid coil pose): 0\n"))
    }

    @Test func anInvalidPulseWithAPoseIsStillLeftOut() {
        // A pose the server did not trust (e.g. a stale frame) is not exported as a pose.
        var p = PulseFixtures.pulses[0]
        p.isValid = false
        p.invalidReasons = ["stale frame"]
        #expect(!PulseExport.brainsightSamples([p]).contains("Sample 1"))
        #expect(!PulseExport.localiteTriggerMarkers([p]).contains("<TriggerMarker "))
        #expect(PulseExport.localiteTriggerMarkers([p]).contains("<!--pulse 1 at 2026-11-22T03:10:00.123Z not exported: no valid coil pose (stale frame)-->"))
    }
}
