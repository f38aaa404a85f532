import CoilNavTestSupport
import Foundation
import Testing

/// `coilnav export` on a hand-written pulses.jsonl: a valid pulse (coil rotated 90° about MRI z,
/// at (10, 20, 30)) and an invalid one (coil missing).
@Suite struct ExportCommandTests {
    static let log = """
        {"format":"coilnav-pulses","version":1}
        {"index":1,"timeNanoseconds":5000000000,"wallClock":"2026-11-22T03:10:00.123Z","targetName":"L-DLPFC","isValid":true,"invalidReasons":[],"frameBefore":100,"frameAfter":101,"interpolationFraction":0.25,"coilToMRI":[[0,-1,0,10],[1,0,0,20],[0,0,1,30],[0,0,0,1]],"distanceMM":2.5,"inPlaneAtCoilMM":1.5,"inPlaneAtCortexMM":1.5,"depthMM":-2,"tiltDegrees":0,"twistDegrees":0,"onTarget":true,"intensityPercentMSO":65}
        {"index":2,"timeNanoseconds":5250000000,"wallClock":"2026-11-22T03:10:00.373Z","isValid":false,"invalidReasons":["coil missing"],"onTarget":false}

        """

    static let csv =
        "index,timeNanoseconds,wallClock,targetName,isValid,invalidReasons,frameBefore,frameAfter,interpolationFraction,"
        + (0..<4).flatMap { r in (0..<4).map { c in "coilToMRI_m\(r)\(c)," } }.joined()
        + (0..<4).flatMap { r in (0..<4).map { c in "coilToTarget_m\(r)\(c)," } }.joined()
        + "distanceMM,inPlaneAtCoilMM,inPlaneAtCortexMM,depthMM,tiltDegrees,twistDegrees,onTarget,intensityPercentMSO,label\n"
        + "1,5000000000,2026-11-22T03:10:00.123Z,L-DLPFC,true,,100,101,0.25,0,-1,0,10,1,0,0,20,0,0,1,30,0,0,0,1"
        + String(repeating: ",", count: 16) + ",2.5,1.5,1.5,-2,0,0,true,65,\n"
        + "2,5250000000,2026-11-22T03:10:00.373Z,,false,coil missing" + String(repeating: ",", count: 41) + ",false,,\n"

    static let localite = """
        <?xml version="1.0" encoding="UTF-8"?>
        <TriggerMarkerList coordinateSpace="RAS" isOnlineReading="false" startTime="03:10:00.123">
            <!--Written by CoilNav 0.1.0 from a pulse log. Positions: the MRI's RAS coordinates in millimetres; coil axes: Localite's (x = SimNIBS z, y = -SimNIBS y, z = SimNIBS x). recordingTime: milliseconds since the first pulse; startTime: its UTC time of day.-->
            <ResponseParameters selectedResponseChannel="0">
                <responseDescription id="response" maxValue="51200.0"
                    minValue="-51200.0" name="Response" unit="uV"/>
                <responseDescription id="valueA" maxValue="200.0" minValue="0.0"
                    name="Value A (di/dt)" unit="A/us"/>
                <responseDescription id="amplitudeA" maxValue="100.0"
                    minValue="0.0" name="Amplitude A" unit="%"/>
            </ResponseParameters>
            <TriggerMarker color="#ffafaf" description="pulse 1" recordingTime="0"
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
        </TriggerMarkerList>

        """

    static let brainsight = """
        # Version: 12
        # Coordinate system: NIfTI:Aligned
        # Created by: CoilNav 0.1.0
        # Units: millimetres, degrees, milliseconds, and microvolts
        # Encoding: UTF-8
        # Notes: Each column is delimited by a tab. Each value within a column is delimited by a semicolon.
        # Sample Name\tSession Name\tIndex\tAssoc. Target\tLoc. X\tLoc. Y\tLoc. Z\tm0n0\tm0n1\tm0n2\tm1n0\tm1n1\tm1n2\tm2n0\tm2n1\tm2n2\tDist. to Target\tTarget Error\tAngular Error\tTwist Error\tStim. Power\tDate\tTime\tCreation Cause\tCrosshairs Driver\tOffset\tComment\tEMG Start\tEMG End\tEMG Res.\tEMG Channels
        Sample 1\tsub-01 run 2\t1\tL-DLPFC\t10.0000\t20.0000\t30.0000\t0.0000\t-1.0000\t0.0000\t-1.0000\t0.0000\t0.0000\t0.0000\t0.0000\t-1.0000\t2.500\t1.500\t0.000\t0.000\t65.000\t2026-11-22\t03:10:00.123\tCoilNav pulse\tCoil 1\t0.000\t(null)\t(null)\t(null)\t(null)\t(null)
        # Pulses left out (no valid coil pose): 1
        # pulse 2 at 2026-11-22T03:10:00.373Z not exported: no valid coil pose (coil missing)

        """

    func session(_ text: String = Self.log) throws -> URL {
        let dir = try Paths.temporaryDirectory()
        try Data(text.utf8).write(to: dir.appendingPathComponent("pulses.jsonl"))
        return dir
    }

    @Test func eachFormatHasTheExactText() throws {
        let dir = try self.session()
        let csv = try coilnav(["export", "--session", dir.path, "--format", "csv"])
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdout == Self.csv)
        #expect(csv.stderr.isEmpty)
        let localite = try coilnav(["export", "--pulses", dir.appendingPathComponent("pulses.jsonl").path, "--format", "localite"])
        #expect(localite.status == 0, "\(localite.stderr)")
        #expect(localite.stdout == Self.localite)
        let brainsight = try coilnav(["export", "--session", dir.path, "--format", "brainsight", "--session-name", "sub-01 run 2"])
        #expect(brainsight.status == 0, "\(brainsight.stderr)")
        #expect(brainsight.stdout == Self.brainsight)
    }

    @Test func outWritesTheSameBytesToAFile() throws {
        let dir = try self.session()
        let out = dir.appendingPathComponent("TriggerMarkers_Coil0_20261122031000123.xml")
        let r = try coilnav(["export", "--session", dir.path, "--format", "localite", "--localite-space", "lps", "--out", out.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        let written = try String(contentsOf: out, encoding: .utf8)
        let expected = Self.localite
            .replacingOccurrences(of: #"coordinateSpace="RAS""#, with: #"coordinateSpace="LPS""#)
            .replacingOccurrences(of: "the MRI's RAS coordinates", with: "the MRI's LPS coordinates")
            .replacingOccurrences(of: #"data01="1.0" data02="0.0" data03="10.0""#, with: #"data01="-1.0" data02="0.0" data03="-10.0""#)
            .replacingOccurrences(of: #"data12="1.0" data13="20.0""#, with: #"data12="-1.0" data13="-20.0""#)
        #expect(written == expected)
    }

    @Test func aTornLastLineIsAWarningAndTheFileIsLeftAlone() throws {
        let text = Self.log + #"{"index":3,"timeNano"#
        let dir = try self.session(text)
        let r = try coilnav(["export", "--session", dir.path, "--format", "csv"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.csv)
        let path = dir.appendingPathComponent("pulses.jsonl").path
        #expect(r.stderr == "coilnav: warning: \(path): line 4: the last line is incomplete (20 bytes without a final newline; a crash while writing?); it was not read\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test func errorsNameFileLineAndField() throws {
        let bad = Self.log.replacingOccurrences(of: #""wallClock":"2026-11-22T03:10:00.373Z""#, with: #""wallClock":"22.11.2026""#)
        let dir = try self.session(bad)
        let r = try coilnav(["export", "--session", dir.path, "--format", "brainsight"])
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        let path = dir.appendingPathComponent("pulses.jsonl").path
        #expect(r.stderr.contains(#"\#(path): line 3, column 53: wallClock: expected an ISO 8601 UTC time with milliseconds such as "2026-11-22T03:10:00.123Z", got "22.11.2026""#), "\(r.stderr)")

        let missing = try coilnav(["export", "--session", dir.appendingPathComponent("nope").path, "--format", "csv"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("\(dir.appendingPathComponent("nope/pulses.jsonl").path): cannot read the file: no such file or directory"), "\(missing.stderr)")

        let both = try coilnav(["export", "--session", dir.path, "--pulses", "x.jsonl", "--format", "csv"])
        #expect(both.status != 0)
        #expect(both.stderr.contains("give exactly one of --session DIR and --pulses FILE"), "\(both.stderr)")
    }

    /// Reads both vendor exports with Python's standard library the way SimNIBS's nnav.py does
    /// (restated here, not imported: simnibs is not a dependency) and checks that the SimNIBS
    /// pose comes back: Localite `M · F` (after the LPS → RAS flip), Brainsight rows of axis
    /// vectors times diag(−1, 1, −1).
    static let pythonReader = """
        import json, sys
        import xml.etree.ElementTree as ET

        def matmul(a, b):
            return [[sum(a[i][k] * b[k][j] for k in range(4)) for j in range(4)] for i in range(4)]

        F = [[0, 0, 1, 0], [0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
        FLIP_LPS = [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
        FLIP_BS = [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]]

        def localite(path):
            root = ET.parse(path).getroot()
            space = root.get('coordinateSpace').upper()
            out = []
            for marker in root.iter('TriggerMarker'):
                m4 = marker.find('Matrix4D')
                m = [[float(m4.get('data%d%d' % (i, j))) for j in range(4)] for i in range(4)]
                if space == 'LPS':
                    m = matmul(FLIP_LPS, m)
                values = {v.get('key'): v.get('response') for v in marker.find('ResponseValues').findall('Value')}
                out.append({'name': marker.get('description'), 'time': marker.get('recordingTime'),
                            'amplitude': float(values['amplitudeA']), 'matsimnibs': matmul(m, F)})
            return out

        def brainsight(path):
            with open(path, encoding='utf-8') as f:
                lines = f.read().split('\\n')
            k = 0
            header = {}
            while not lines[k].startswith('# Sample Name'):
                if ': ' in lines[k]:
                    key, value = lines[k][2:].split(': ', 1)
                    header[key] = value
                k += 1
            columns = lines[k][2:].split('\\t')
            out = []
            for line in lines[k + 1:]:
                if line.startswith('#'):
                    break
                row = dict(zip(columns, line.split('\\t')))
                m = [[float(row['m%dn%d' % (axis, comp)]) for axis in range(3)] + [float(row['Loc. ' + 'XYZ'[comp]])]
                     for comp in range(3)] + [[0, 0, 0, 1]]
                out.append({'name': row['Sample Name'], 'target': row['Assoc. Target'], 'matsimnibs': matmul(m, FLIP_BS)})
            return {'version': header.get('Version'), 'space': header.get('Coordinate system'), 'samples': out}

        print(json.dumps({'localite': localite(sys.argv[1]), 'brainsight': brainsight(sys.argv[2])}))
        """

    static let python = pythonInterpreter(importing: ["xml.etree.ElementTree", "json"], packageRoot: Paths.root)

    @Test(.enabled(if: python != nil, "no Python ($COILNAV_PYTHON or .venv-ci)"))
    func pythonReadsTheSimNIBSPoseBack() throws {
        let dir = try self.session()
        let xml = dir.appendingPathComponent("TriggerMarkers_Coil0_20261122031000123.xml").path
        let txt = dir.appendingPathComponent("brainsight.txt").path
        #expect(try coilnav(["export", "--session", dir.path, "--format", "localite", "--localite-space", "LPS", "--out", xml]).status == 0)
        #expect(try coilnav(["export", "--session", dir.path, "--format", "brainsight", "--out", txt]).status == 0)
        let script = dir.appendingPathComponent("read.py")
        try Data(Self.pythonReader.utf8).write(to: script)
        let r = try runProcess(URL(fileURLWithPath: try #require(Self.python)), [script.path, xml, txt])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let expected: [[Double]] = [[0, -1, 0, 10], [1, 0, 0, 20], [0, 0, 1, 30], [0, 0, 0, 1]]
        let markers = try #require(o["localite"] as? [[String: Any]])
        #expect(markers.count == 1)
        #expect(markers.first?["name"] as? String == "pulse 1")
        #expect(markers.first?["time"] as? String == "0")
        #expect(markers.first?["amplitude"] as? Double == 65)
        #expect(markers.first?["matsimnibs"] as? [[Double]] == expected)
        let bs = try #require(o["brainsight"] as? [String: Any])
        #expect(bs["version"] as? String == "12")
        #expect(bs["space"] as? String == "NIfTI:Aligned")
        let samples = try #require(bs["samples"] as? [[String: Any]])
        #expect(samples.count == 1)
        #expect(samples.first?["name"] as? String == "Sample 1")
        #expect(samples.first?["target"] as? String == "L-DLPFC")
        #expect(samples.first?["matsimnibs"] as? [[Double]] == expected)
    }
}
