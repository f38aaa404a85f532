import Foundation
import NDIProtocol

/// A tool the driver sets up: its name, its kind, how it is set up and its tracking priority.
public struct TrackerTool: Sendable, Equatable {
    /// How the tracker learns about the tool.
    public enum Setup: Sendable, Equatable {
        /// A passive (or active wireless) tool: its tool-definition image is uploaded with PHRQ and
        /// 16× PVWR. `path` is the resolved file, `rom` its bytes (at most 1024).
        case passive(path: String, rom: [UInt8])
        /// An active or wired tool that carries its own SROM: found through PHSR.
        case active
    }

    /// The tool's name, as it appears in frames (`"coil"`, `"head"`, …).
    public var name: String
    /// What the tool is (`"coil"`, `"head-reference"`, `"pointer"`, …); free text.
    public var kind: String
    public var setup: Setup
    /// `PENA` priority: `D` dynamic, `S` static, `B` button box.
    public var priority: NDITrackingPriority

    public init(name: String, kind: String = "", setup: Setup, priority: NDITrackingPriority = .dynamic) {
        self.name = name
        self.kind = kind
        self.setup = setup
        self.priority = priority
    }
}

/// A `coilnav-toolset` file, version 1 (`Calibration/README.md`):
///
/// ```json
/// {"format": "coilnav-toolset", "version": 1, "description": "…",
///  "tools": [{"name": "coil", "kind": "coil",
///             "setup": {"type": "passive", "toolDefinition": "tools/coil.rom"}, "priority": "D"},
///            {"name": "probe", "kind": "pointer", "setup": {"type": "active"}, "priority": "D"}]}
/// ```
///
/// `toolDefinition` paths are relative to the Calibration folder. The loader looks for the file
/// relative to the tool set's own folder, then relative to each of its parent folders in turn,
/// and takes the first that exists (so `Calibration/tools/toolset-mock.json` naming
/// `tools/coil-reference.rom` finds `Calibration/tools/coil-reference.rom`); an absolute path is
/// used as is. `priority` defaults to `D`. Tool names must be unique and non-empty.
public struct ToolSet: Sendable, Equatable {
    public var description: String
    public var tools: [TrackerTool]
    /// The file it was loaded from.
    public var file: String

    public init(description: String = "", tools: [TrackerTool], file: String = "") {
        self.description = description
        self.tools = tools
        self.file = file
    }

    /// Why a tool set was refused: the file, the field (e.g. `tools[2].setup.toolDefinition`) and
    /// what is wrong.
    public struct LoadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var field: String?
        public var message: String
        public init(file: String, field: String?, message: String) {
            self.file = file
            self.field = field
            self.message = message
        }
        public var description: String {
            "\(self.file)" + (self.field.map { ": \($0)" } ?? "") + ": \(self.message)"
        }
    }

    /// Reads and checks a tool set and every tool-definition file it names.
    public static func load(path: String) throws(LoadError) -> ToolSet {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(file: path, field: nil, message: "cannot read the tool set file")
        }
        return try self.parse(data, file: path)
    }

    /// Parses a tool set; `file` names it in errors and anchors relative tool-definition paths.
    public static func parse(_ data: Data, file: String) throws(LoadError) -> ToolSet {
        func fail(_ field: String?, _ m: String) -> LoadError { LoadError(file: file, field: field, message: m) }
        let rootAny: Any
        do {
            rootAny = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw fail(nil, "not valid JSON (\(error.localizedDescription))")
        }
        guard let root = rootAny as? [String: Any] else { throw fail(nil, "expected a JSON object at the top level") }
        for key in root.keys.sorted() where !["format", "version", "description", "tools"].contains(key) {
            throw fail(key, "unknown field (known: description, format, tools, version)")
        }
        guard let format = root["format"] as? String else {
            throw fail("format", "missing (expected \"coilnav-toolset\")")
        }
        guard format == "coilnav-toolset" else {
            throw fail("format", "expected \"coilnav-toolset\", got \"\(format)\"")
        }
        guard let version = root["version"] as? NSNumber, version.doubleValue == 1 else {
            throw fail("version", "expected 1 (the only version this CoilNav reads)")
        }
        var description = ""
        if let d = root["description"] {
            guard let s = d as? String else { throw fail("description", "expected a string") }
            description = s
        }
        guard let toolsAny = root["tools"] else { throw fail("tools", "missing (a list of tools is required)") }
        guard let items = toolsAny as? [Any], !items.isEmpty else { throw fail("tools", "expected a non-empty list") }
        let base = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL
        var tools: [TrackerTool] = []
        for (i, item) in items.enumerated() {
            let at = "tools[\(i)]"
            guard let o = item as? [String: Any] else { throw fail(at, "expected an object") }
            for key in o.keys.sorted() where !["name", "kind", "setup", "priority"].contains(key) {
                throw fail("\(at).\(key)", "unknown field (known: kind, name, priority, setup)")
            }
            guard let name = o["name"] as? String, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw fail("\(at).name", "missing or empty (a tool name is required)")
            }
            if tools.contains(where: { $0.name == name }) {
                throw fail("\(at).name", "\"\(name)\" is used by an earlier tool")
            }
            var kind = ""
            if let k = o["kind"] {
                guard let s = k as? String else { throw fail("\(at).kind", "expected a string") }
                kind = s
            }
            var priority = NDITrackingPriority.dynamic
            if let p = o["priority"] {
                guard let s = p as? String, s.count == 1, let v = NDITrackingPriority(rawValue: s.first!) else {
                    throw fail("\(at).priority", "expected \"D\" (dynamic), \"S\" (static) or \"B\" (button box)")
                }
                priority = v
            }
            guard let setupObj = o["setup"] as? [String: Any] else {
                throw fail(
                    "\(at).setup",
                    "missing or not an object (expected {\"type\": \"passive\", \"toolDefinition\": …} or {\"type\": \"active\"})"
                )
            }
            guard let type = setupObj["type"] as? String else {
                throw fail("\(at).setup.type", "missing (\"passive\" or \"active\")")
            }
            let setup: TrackerTool.Setup
            switch type {
            case "passive":
                for key in setupObj.keys.sorted() where !["type", "toolDefinition"].contains(key) {
                    throw fail("\(at).setup.\(key)", "unknown field (known: toolDefinition, type)")
                }
                guard let rel = setupObj["toolDefinition"] as? String, !rel.isEmpty else {
                    throw fail("\(at).setup.toolDefinition", "missing (the tool-definition file of a passive tool)")
                }
                guard let resolved = Self.resolve(rel, from: base) else {
                    throw fail(
                        "\(at).setup.toolDefinition",
                        "file \"\(rel)\" not found next to the tool set or in any parent folder"
                    )
                }
                guard let bytes = FileManager.default.contents(atPath: resolved) else {
                    throw fail("\(at).setup.toolDefinition", "cannot read \(resolved)")
                }
                guard !bytes.isEmpty, bytes.count <= 1024 else {
                    throw fail(
                        "\(at).setup.toolDefinition",
                        "\(resolved) has \(bytes.count) bytes; a tool definition has 1…1024"
                    )
                }
                setup = .passive(path: resolved, rom: [UInt8](bytes))
            case "active":
                for key in setupObj.keys.sorted() where key != "type" {
                    throw fail("\(at).setup.\(key)", "unknown field (an active tool has only a type)")
                }
                setup = .active
            default:
                throw fail("\(at).setup.type", "expected \"passive\" or \"active\", got \"\(type)\"")
            }
            tools.append(TrackerTool(name: name, kind: kind, setup: setup, priority: priority))
        }
        return ToolSet(description: description, tools: tools, file: file)
    }

    private static func resolve(_ rel: String, from base: URL) -> String? {
        if rel.hasPrefix("/") { return FileManager.default.fileExists(atPath: rel) ? rel : nil }
        var dir = base
        for _ in 0..<16 {
            let candidate = dir.appendingPathComponent(rel).standardizedFileURL.path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return nil
    }
}
