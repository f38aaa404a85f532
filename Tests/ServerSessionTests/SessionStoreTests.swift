import Formats
import Foundation
import Geometry
import ServerSession
import Testing

@Suite struct SessionStoreTests {
    static let created = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z

    static func registration() throws -> RegistrationRecord {
        RegistrationRecord(
            createdAt: "2026-11-22T03:20:00Z",
            headToMRI: RigidTransform(rotation: Quaternion(axis: Vector3(0.3, -0.5, 0.8), angleRadians: 0.35), translation: Vector3(12, -35, 48)),
            freMM: 1.25, fleMM: 1, fiducialResiduals: [.init(name: "NAS", residualMM: 1.5), .init(name: "LPA", residualMM: 0.9)])
    }

    /// The names in a folder, sorted.
    static func listing(_ path: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    @Test func createMutateAndResumeAfterARestart() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let dir = scratch.file("sessions/sub-01")  // parents are created too
        let store = try SessionStore.open(directory: dir, createIfMissing: true, createdAt: Self.created)
        #expect(!store.resumed)
        #expect(permissions(dir) == 0o700)
        #expect(permissions(store.statePath) == 0o600)
        #expect(store.state == SessionState(createdAt: "2026-11-18T11:06:40Z"))
        #expect(store.statePath == dir + "/session.json" && store.registrationPath == dir + "/registration.json")
        #expect(store.pulsesPath == dir + "/pulses.jsonl" && store.tokenPath == dir + "/token")
        #expect(store.capturesDirectory == dir + "/captures")

        let record = try Self.registration()
        try store.setPlanPath("/data/plan.json")
        try store.setActiveTarget("DLPFC-Fox2012")
        try store.setCoilCalibrationPath("/data/coil.json")
        try store.addCapturedFiducial(CapturedFiducial(name: "NAS", headPositionMM: Vector3(1.5, 85.25, -34.5), sampleCount: 30, firstFrame: 1000, lastFrame: 1029))
        try store.addCapturedFiducial(CapturedFiducial(name: "LPA", headPositionMM: Vector3(-80.5, -29, -41.25), sampleCount: 28, firstFrame: 1200, lastFrame: 1229))
        // Re-capturing NAS replaces it in place.
        let nas = CapturedFiducial(name: "NAS", headPositionMM: Vector3(1.75, 85, -34.5), sampleCount: 31, firstFrame: 4_294_967_290, lastFrame: 25)
        try store.addCapturedFiducial(nas)
        try store.addScalpPoint(Vector3(0.1, 0.2, 0.3))
        try store.addScalpPoints([Vector3(-1e-7, 123.456, 7), Vector3(4, 5, 6)])
        try store.setRegistration(record)
        #expect(try RegistrationRecord.load(path: store.registrationPath) == (try RegistrationRecord.parse(record.serialized(), source: "r")))

        let before = store.state
        #expect(before.capturedFiducials.map(\.name) == ["NAS", "LPA"])
        #expect(before.capturedFiducial(named: "NAS") == nas)
        #expect(before.scalpPoints == [Vector3(0.1, 0.2, 0.3), Vector3(-1e-7, 123.456, 7), Vector3(4, 5, 6)])

        // "Restart": a new store on the same folder sees exactly the same state.
        let again = try SessionStore.open(directory: dir, createIfMissing: false)
        #expect(again.resumed)
        let after = again.state
        #expect(after.createdAt == "2026-11-18T11:06:40Z")
        #expect(after.planPath == "/data/plan.json" && after.activeTarget == "DLPFC-Fox2012" && after.coilCalibrationPath == "/data/coil.json")
        #expect(after.capturedFiducials == before.capturedFiducials)
        #expect(after.scalpPoints == before.scalpPoints)
        let resumedRecord = try #require(after.registration)
        #expect(maxDifference(resumedRecord.headToMRI, record.headToMRI) < 1e-15)
        #expect(resumedRecord.freMM == 1.25 && resumedRecord.fiducialResiduals == record.fiducialResiduals)

        // Clearing is persisted too.
        try again.clearCapturedFiducials()
        try again.clearScalpPoints()
        try again.setActiveTarget(nil)
        try again.clearRegistration()
        #expect(!FileManager.default.fileExists(atPath: again.registrationPath))
        let third = try SessionStore.open(directory: dir, createIfMissing: true, createdAt: Date())
        #expect(third.resumed)
        #expect(third.state == SessionState(createdAt: "2026-11-18T11:06:40Z", planPath: "/data/plan.json", coilCalibrationPath: "/data/coil.json"))
    }

    @Test func sessionFileLayout() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true, createdAt: Self.created)
        try store.setActiveTarget("F3")
        try store.addCapturedFiducial(CapturedFiducial(name: "NAS", headPositionMM: Vector3(1.5, 2, -3), sampleCount: 10, firstFrame: 7, lastFrame: 16))
        try store.addScalpPoint(Vector3(1, 2, 3.5))
        try store.setRegistration(try Self.registration())
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: store.statePath)), as: UTF8.self)
        #expect(
            text == """
                {
                    "format": "coilnav-session",
                    "version": 1,
                    "createdAt": "2026-11-18T11:06:40Z",
                    "activeTarget": "F3",
                    "registration": "registration.json",
                    "fiducials": [
                        {
                            "name": "NAS",
                            "headPositionMM": [1.5, 2, -3],
                            "sampleCount": 10,
                            "firstFrame": 7,
                            "lastFrame": 16
                        }
                    ],
                    "scalpPoints": [
                        [1, 2, 3.5]
                    ]
                }

                """)
    }

    @Test func atomicWritesLeaveNoTemporaryFiles() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true)
        for i in 0..<25 { try store.addScalpPoint(Vector3(Double(i), 0, 0)) }
        try store.setRegistration(try Self.registration())
        _ = try store.ensureToken()
        #expect(try Self.listing(store.directory) == ["registration.json", "session.json", "token"])
        #expect(permissions(store.registrationPath) == 0o600)

        // A write that fails (session.json replaced by a folder, so the rename fails) changes
        // nothing in memory and leaves no temporary file behind.
        let stateBefore = store.state
        try FileManager.default.removeItem(atPath: store.statePath)
        try FileManager.default.createDirectory(atPath: store.statePath + "/blocker", withIntermediateDirectories: true)
        let error = formatError { () throws(FileFormatError) in try store.addScalpPoint(Vector3(99, 0, 0)) }
        #expect(error?.file == store.statePath)
        #expect(error?.message.hasPrefix("cannot replace the file: ") == true)
        #expect(store.state == stateBefore)
        #expect(try Self.listing(store.directory) == ["registration.json", "session.json", "token"])
    }

    @Test func tokenIsPrivateAndReused() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true)
        #expect(!store.tokenMatches(""))  // no token yet
        let token = try store.ensureToken()
        #expect(token.count == 64 && token.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(permissions(store.tokenPath) == 0o600)
        #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: store.tokenPath)), as: UTF8.self) == token)
        #expect(try store.ensureToken() == token)
        #expect(store.tokenMatches(token))
        #expect(!store.tokenMatches(String(token.dropLast()) + (token.last == "0" ? "1" : "0")))
        #expect(!store.tokenMatches(String(token.dropLast())))
        #expect(!store.tokenMatches(token + "0"))
        #expect(!store.tokenMatches(""))

        // After a restart the same token is read back.
        let again = try SessionStore.open(directory: store.directory, createIfMissing: false)
        #expect(!again.tokenMatches(token))  // not read yet
        #expect(try again.ensureToken() == token)
        #expect(again.tokenMatches(token))

        // Another session gets another token.
        let other = try SessionStore.open(directory: scratch.file("t"), createIfMissing: true)
        #expect(try other.ensureToken() != token)
    }

    @Test func aTokenOthersCanReadIsRefused() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true)
        let token = try store.ensureToken()
        #expect(chmod(store.tokenPath, 0o640) == 0)
        let reopened = try SessionStore.open(directory: store.directory, createIfMissing: false)
        #expect(
            formatError { () throws(FileFormatError) in try reopened.ensureToken() }?.description
                == "\(store.tokenPath): group or others may read or write the token (mode 0640); run chmod 600 on it, or delete it to make a new token")
        #expect(chmod(store.tokenPath, 0o604) == 0)
        #expect(formatError { () throws(FileFormatError) in try reopened.ensureToken() }?.message.contains("(mode 0604)") == true)
        #expect(!reopened.tokenMatches(token))
        #expect(chmod(store.tokenPath, 0o600) == 0)
        #expect(try reopened.ensureToken() == token)

        // A token file that does not hold a token is refused too.
        let bad = try SessionStore.open(directory: scratch.file("b"), createIfMissing: true)
        #expect(FileManager.default.createFile(atPath: bad.tokenPath, contents: Data("secret\n".utf8), attributes: [.posixPermissions: 0o600]))
        #expect(
            formatError { () throws(FileFormatError) in try bad.ensureToken() }?.description
                == "\(bad.tokenPath): expected 64 lowercase hexadecimal characters; delete the file to make a new token")
    }

    @Test func aSymbolicLinkTokenIsRefused() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true)
        let target = scratch.file("elsewhere")
        #expect(FileManager.default.createFile(atPath: target, contents: Data(String(repeating: "a", count: 64).utf8), attributes: [.posixPermissions: 0o600]))
        try FileManager.default.createSymbolicLink(atPath: store.tokenPath, withDestinationPath: target)
        #expect(
            formatError { () throws(FileFormatError) in try store.ensureToken() }?.description
                == "\(store.tokenPath): is a symbolic link; the token must be a plain file")
    }

    @Test func concurrentChangesAreAllKept() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true)
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            for k in 0..<10 {
                do throws(FileFormatError) {
                    try store.addScalpPoint(Vector3(Double(thread), Double(k), 0))
                } catch {
                    failures.increment()
                }
            }
        }
        #expect(failures.value == 0)
        let points = try SessionStore.open(directory: store.directory, createIfMissing: false).state.scalpPoints
        #expect(points.count == 80)
        #expect(Set(points.map { "\($0.x),\($0.y)" }).count == 80)
        #expect(try Self.listing(store.directory) == ["session.json"])
    }

    @Test func constantTimeComparison() {
        #expect(SessionStore.constantTimeEquals("abc", "abc"))
        #expect(SessionStore.constantTimeEquals("", ""))
        #expect(!SessionStore.constantTimeEquals("abc", "abd"))
        #expect(!SessionStore.constantTimeEquals("abc", "ab"))
        #expect(!SessionStore.constantTimeEquals("ab", "abc"))
        #expect(!SessionStore.constantTimeEquals("abc\u{0}", "abc"))
    }

    @Test func corruptOrMissingFilesAreReportedByName() throws {
        let scratch = try ScratchFolder()
        defer { scratch.cleanUp() }
        let missing = scratch.file("nothing")
        #expect(
            formatError { () throws(FileFormatError) in try SessionStore.open(directory: missing, createIfMissing: false) }?.description
                == "\(missing): no such session folder")
        #expect(!FileManager.default.fileExists(atPath: missing))
        #expect(
            formatError { () throws(FileFormatError) in try SessionStore.open(directory: scratch.path, createIfMissing: false) }?.description
                == "\(scratch.file("session.json")): no session here (the folder has no session.json)")

        let store = try SessionStore.open(directory: scratch.file("s"), createIfMissing: true, createdAt: Self.created)
        try store.addCapturedFiducial(CapturedFiducial(name: "NAS", headPositionMM: Vector3(1, 2, 3), sampleCount: 3, firstFrame: 1, lastFrame: 3))
        let good = String(decoding: try Data(contentsOf: URL(fileURLWithPath: store.statePath)), as: UTF8.self)
        func reopen(_ text: String) throws -> String? {
            try Data(text.utf8).write(to: URL(fileURLWithPath: store.statePath))
            return formatError { () throws(FileFormatError) in try SessionStore.open(directory: store.directory, createIfMissing: true) }?.description
        }
        #expect(
            try reopen(good.replacingOccurrences(of: "\"sampleCount\": 3", with: "\"sampleCount\": \"3\""))
                == "\(store.statePath): line 9, column 28: fiducials[0].sampleCount: expected a whole number, got the string \"3\"")
        #expect(
            try reopen(good.replacingOccurrences(of: "\"sampleCount\": 3", with: "\"sampleCount\": 0"))
                == "\(store.statePath): line 9, column 28: fiducials[0].sampleCount: must be at least 1, got 0")
        #expect(
            try reopen(good.replacingOccurrences(of: "\"lastFrame\": 3", with: "\"lastFrame\": 4294967296"))
                == "\(store.statePath): line 11, column 26: fiducials[0].lastFrame: expected a frame number 0…4294967295, got 4294967296")
        #expect(
            try reopen(good.replacingOccurrences(of: "[1, 2, 3]", with: "[1, 2]"))
                == "\(store.statePath): line 8, column 31: fiducials[0].headPositionMM: expected an array of 3 numbers, got 2 elements")
        #expect(
            try reopen(good.replacingOccurrences(of: "\"createdAt\"", with: "\"created\""))
                == "\(store.statePath): line 4, column 5: created: unknown field (expected one of \"activeTarget\", \"coilCalibration\", \"createdAt\", \"fiducials\", \"format\", \"plan\", \"registration\", \"scalpPoints\", \"version\")")
        let truncated = try reopen(String(good.prefix(40)))
        #expect(
            truncated
                == "\(store.statePath): line 3, column 5: the string starting here is not terminated (missing closing '\"')")
        let empty = try reopen("")
        #expect(empty == "\(store.statePath): line 1, column 1: the file is empty (expected a JSON value)")

        // session.json names a registration that is not there.
        try Data(good.replacingOccurrences(of: "\"fiducials\"", with: "\"registration\": \"registration.json\",\n    \"fiducials\"").utf8)
            .write(to: URL(fileURLWithPath: store.statePath))
        #expect(
            formatError { () throws(FileFormatError) in try SessionStore.open(directory: store.directory, createIfMissing: false) }?.description
                == "\(store.registrationPath): cannot read the file: no such file or directory")
    }
}
