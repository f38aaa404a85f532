import Foundation
import Geometry
import Testing

@testable import Formats

/// 3D Slicer `.mrk.json` point lists: LPS ↔ RAS, units, undefined points, errors.
@Suite struct MarkupsTests {
    static let schema = MarkupsFile.schemaIdentifier

    /// What Slicer 5 writes for a fiducial list saved in LPS (fsaverage fiducials, converted),
    /// with a fourth point that was never placed.
    static let slicerLPS = """
        {
            "@schema": "\(schema)",
            "markups": [
                {
                    "type": "Fiducial",
                    "coordinateSystem": "LPS",
                    "coordinateUnits": "mm",
                    "locked": false,
                    "fixedNumberOfControlPoints": false,
                    "labelFormat": "%N-%d",
                    "lastUsedControlPointNumber": 4,
                    "controlPoints": [
                        {
                            "id": "1", "label": "NAS", "description": "nasion", "associatedNodeID": "vtkMRMLScalarVolumeNode1",
                            "position": [-1.47, -85.07, -34.84],
                            "orientation": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0],
                            "selected": true, "locked": true, "visibility": true, "positionStatus": "defined"
                        },
                        {
                            "id": "2", "label": "LPA", "description": "", "associatedNodeID": "",
                            "position": [80.62, 29.09, -41.31],
                            "orientation": [0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
                            "selected": false, "locked": false, "visibility": false, "positionStatus": "defined"
                        },
                        { "id": "3", "label": "RPA", "position": [-84.36, 28.5, -41.28] },
                        { "id": "4", "label": "Iz", "position": "", "positionStatus": "undefined" },
                        { "id": "5", "label": "Cz", "position": [0.1, 22.36, 104.81], "positionStatus": "preview" }
                    ],
                    "measurements": [],
                    "display": { "visibility": true, "opacity": 1.0, "color": [0.4, 1.0, 1.0], "glyphType": "Sphere3D" }
                }
            ]
        }
        """

    private func error(_ text: String, source: String = "fids.mrk.json") -> FileFormatError? {
        do {
            _ = try MarkupsFile.parse(Data(text.utf8), source: source)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsSlicerLPSFileAsRAS() throws {
        let file = try MarkupsFile.parse(Data(Self.slicerLPS.utf8), source: "fids.mrk.json")
        #expect(file.markups.count == 1)
        let m = file.markups[0]
        #expect(m.type == "Fiducial")
        #expect(m.coordinateSystem == .lps)
        #expect(m.controlPoints.count == 5)
        // LPS → RAS negates x and y exactly.
        #expect(m.points == [
            LabeledPoint(label: "NAS", position: Vector3(1.47, 85.07, -34.84)),
            LabeledPoint(label: "LPA", position: Vector3(-80.62, -29.09, -41.31)),
            LabeledPoint(label: "RPA", position: Vector3(84.36, -28.5, -41.28)),
        ])
        let nas = m.controlPoints[0]
        #expect(nas.description == "nasion")
        #expect(nas.associatedNodeID == "vtkMRMLScalarVolumeNode1")
        #expect(nas.locked == true)
        // Slicer's default LPS orientation is the identity in RAS.
        #expect(nas.orientation == Matrix3.identity)
        // A 90° rotation about z written in LPS: the first two rows flip sign.
        #expect(m.controlPoints[1].orientation.rowMajor == [0, 1, 0, -1, 0, 0, 0, 0, 1])
        #expect(m.controlPoints[1].selected == false && m.controlPoints[1].visibility == false)
        // Defaults for fields the file leaves out.
        #expect(m.controlPoints[2].selected == true && m.controlPoints[2].positionStatus == .defined)
        #expect(m.controlPoints[3].position == nil)
        #expect(m.controlPoints[3].positionStatus == .undefined)
        #expect(m.controlPoints[4].positionStatus == .preview)
        #expect(m.controlPoints[4].position == Vector3(-0.1, -22.36, 104.81))
    }

    @Test func readPointsSkipsUndefinedAndPreviewPoints() throws {
        let points = try MarkupsFile.readPoints(from: Data(Self.slicerLPS.utf8), source: "fids.mrk.json")
        #expect(points.map(\.label) == ["NAS", "LPA", "RPA"])
        #expect(points[1].position == Vector3(-80.62, -29.09, -41.31))
    }

    @Test func rasFilesAreNotConverted() throws {
        let text = """
            {"@schema": "\(Self.schema)", "markups": [
                {"type": "Fiducial", "coordinateSystem": "RAS", "controlPoints": [{"label": "A", "position": [1.5, -2, 3]}]},
                {"type": "Fiducial", "controlPoints": [{"label": "B", "position": [1.5, -2, 3]}]}
            ]}
            """
        let points = try MarkupsFile.readPoints(from: Data(text.utf8), source: "two.mrk.json")
        #expect(points == [
            LabeledPoint(label: "A", position: Vector3(1.5, -2, 3)),
            // No coordinateSystem: the schema's default, LPS.
            LabeledPoint(label: "B", position: Vector3(-1.5, 2, 3)),
        ])
    }

    @Test func micrometresAreConvertedToMillimetres() throws {
        let text = """
            {"@schema": "\(Self.schema)", "markups": [
                {"type": "Fiducial", "coordinateSystem": "RAS", "coordinateUnits": "um", "controlPoints": [{"label": "A", "position": [1500, -2000, 250]}]},
                {"type": "Fiducial", "coordinateSystem": "RAS", "coordinateUnits": ["mm", "UCUM", "millimeter"], "controlPoints": [{"label": "B", "position": [1, 2, 3]}]}
            ]}
            """
        let points = try MarkupsFile.readPoints(from: Data(text.utf8), source: "u.mrk.json")
        #expect(points == [LabeledPoint(label: "A", position: Vector3(1.5, -2, 0.25)), LabeledPoint(label: "B", position: Vector3(1, 2, 3))])
    }

    @Test func writesLPSByDefaultForNewMarkups() throws {
        let file = MarkupsFile(markups: [Markup(name: "F", points: [LabeledPoint(label: "NAS", position: Vector3(1.5, 85.25, -34.5))])])
        let text = String(decoding: try file.serialized(), as: UTF8.self)
        let expected = """
            {
                "@schema": "\(Self.schema)",
                "markups": [
                    {
                        "type": "Fiducial",
                        "name": "F",
                        "coordinateSystem": "LPS",
                        "coordinateUnits": "mm",
                        "locked": false,
                        "fixedNumberOfControlPoints": false,
                        "labelFormat": "%N-%d",
                        "lastUsedControlPointNumber": 1,
                        "controlPoints": [
                            {
                                "id": "1",
                                "label": "NAS",
                                "description": "",
                                "associatedNodeID": "",
                                "position": [-1.5, -85.25, -34.5],
                                "orientation": [-1, 0, 0, 0, -1, 0, 0, 0, 1],
                                "selected": true,
                                "locked": false,
                                "visibility": true,
                                "positionStatus": "defined"
                            }
                        ],
                        "measurements": []
                    }
                ]
            }

            """
        #expect(text == expected)
    }

    @Test func writingHonoursTheRequestedSystem() throws {
        let file = MarkupsFile(markups: [Markup(points: [LabeledPoint(label: "P", position: Vector3(10, 20, 30))])])
        let ras = String(decoding: try file.serialized(coordinateSystem: .ras), as: UTF8.self)
        #expect(ras.contains("\"coordinateSystem\": \"RAS\""))
        #expect(ras.contains("\"position\": [10, 20, 30]"))
        #expect(ras.contains("\"orientation\": [1, 0, 0, 0, 1, 0, 0, 0, 1]"))
        let lps = String(decoding: try file.serialized(coordinateSystem: .lps), as: UTF8.self)
        #expect(lps.contains("\"position\": [-10, -20, 30]"))
        // Both read back to the same RAS point.
        #expect(try MarkupsFile.readPoints(from: Data(ras.utf8), source: "r") == file.markups[0].points)
        #expect(try MarkupsFile.readPoints(from: Data(lps.utf8), source: "l") == file.markups[0].points)
    }

    @Test(arguments: Markup.CoordinateSystem.allCases)
    func roundTripKeepsEverything(system: Markup.CoordinateSystem) throws {
        let rotation = Quaternion(axis: Vector3(1, 2, 3).normalized, angleRadians: 0.4).rotationMatrix
        let original = MarkupsFile(markups: [
            Markup(
                type: "Fiducial", name: "landmarks", coordinateSystem: system, locked: true, labelFormat: "F-%d",
                controlPoints: [
                    .init(id: "1", label: "NAS", description: "nasion \"quoted\"", associatedNodeID: "vtkMRMLModelNode4",
                          position: Vector3(1.4700000000000002, 85.07, -34.84), orientation: rotation, selected: false, locked: true, visibility: false),
                    .init(id: "2", label: "Iz", position: nil, positionStatus: .undefined),
                    .init(id: "3", label: "tip", position: Vector3(-0.1, 1e-9, 123456.789), positionStatus: .preview),
                ]),
            Markup(type: "Line", coordinateSystem: .ras, points: [
                LabeledPoint(label: "a", position: Vector3(0, 0, 0)), LabeledPoint(label: "b", position: Vector3(0, 0, 50)),
            ]),
        ])
        let back = try MarkupsFile.parse(try original.serialized(), source: "rt.mrk.json")
        #expect(back == original)
    }

    @Test func missingPositionIsReportedWithPathAndLine() {
        let text = """
            {"@schema": "\(Self.schema)",
             "markups": [{"type": "Fiducial", "coordinateSystem": "LPS",
               "controlPoints": [
                 {"label": "NAS", "position": [1, 2, 3]},
                 {"label": "LPA"}
               ]}]}
            """
        let e = self.error(text)
        #expect(e == FileFormatError(
            file: "fids.mrk.json", location: .line(5, column: 6), field: "markups[0].controlPoints[1].position",
            message: "required field is missing"))
        #expect(e?.description == "fids.mrk.json: line 5, column 6: markups[0].controlPoints[1].position: required field is missing")
    }

    @Test func malformedMarkupsAreRejected() {
        let header = "{\"@schema\": \"\(Self.schema)\", \"markups\": "
        // position with two numbers
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"controlPoints\": [{\"position\": [1, 2]}]}]}")?.description
            == "fids.mrk.json: line 1, column 205: markups[0].controlPoints[0].position: expected an array of 3 numbers, got 2 elements")
        // a string coordinate
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"controlPoints\": [{\"position\": [1, \"2\", 3]}]}]}")?.description
            == "fids.mrk.json: line 1, column 209: markups[0].controlPoints[0].position[1]: expected a number, got the string \"2\"")
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"coordinateUnits\": \"cm\"}]}")?.message
            == "unsupported coordinate unit \"cm\" (CoilNav reads \"mm\" and \"um\")")
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"coordinateSystem\": \"ras\"}]}")?.message
            == "expected \"LPS\" or \"RAS\", got \"ras\"")
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"controlPoints\": [{\"position\": \"\"}]}]}")?.message
            == "the position is empty but positionStatus is \"defined\"")
        #expect(self.error(header + "[{\"type\": \"Fiducial\", \"controlPoints\": [{\"position\": [1, 2, 3], \"positionStatus\": \"placed\"}]}]}")?.field
            == "markups[0].controlPoints[0].positionStatus")
        #expect(self.error("{\"markups\": []}")?.description == "fids.mrk.json: line 1, column 1: @schema: required field is missing")
        #expect(self.error("{\"@schema\": \"https://example.org/other-schema-v2.json#\", \"markups\": []}")?.field == "@schema")
    }

    @Test func acceptsAnyVersionOneSchema() {
        #expect(MarkupsFile.isAcceptedSchema(MarkupsFile.schemaIdentifier))
        #expect(MarkupsFile.isAcceptedSchema("https://raw.githubusercontent.com/Slicer/Slicer/main/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.0.json#"))
        #expect(MarkupsFile.isAcceptedSchema("markups-schema-v1.12.3.json"))
        #expect(!MarkupsFile.isAcceptedSchema("markups-schema-v2.0.0.json#"))
        #expect(!MarkupsFile.isAcceptedSchema("markups-schema-v1.0.json#"))
    }

    @Test func loadAndWriteUseTheFileSystem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("coilnav-markups-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("fids.mrk.json").path
        let file = try MarkupsFile.parse(Data(Self.slicerLPS.utf8), source: "fids.mrk.json")
        try file.write(path: path, coordinateSystem: .ras)
        let back = try MarkupsFile.load(path: path)
        #expect(back.markups[0].coordinateSystem == .ras)
        #expect(back.markups[0].points == file.markups[0].points)
        #expect(back.markups[0].controlPoints[3].positionStatus == .undefined && back.markups[0].controlPoints[3].position == nil)
    }
}
