import Foundation
import Geometry

/// A surface-mesh file format CoilNav reads.
public enum MeshFormat: String, Equatable, Sendable, CaseIterable {
    /// Stanford PLY: ASCII, binary little-endian or binary big-endian.
    case ply
    /// STL: binary or ASCII.
    case stl
    /// Wavefront OBJ.
    case obj
    /// FreeSurfer binary triangle surface (`lh.seghead`, `lh.pial`, `*.surf`).
    case freeSurfer
}

/// Reading and writing scalp (and other) surface meshes as `TriangleMesh`.
///
/// Coordinates are taken as they are in the file and are meant to be RAS millimetres in the
/// plan's MRI space; no unit or axis conversion is applied. FreeSurfer surfaces are in
/// FreeSurfer's "tkregister" RAS, which differs from the scanner RAS of the MRI (what Slicer
/// and most tools use) by the volume's `c_ras` offset; a plan records which of the two its
/// coordinates use (`Plan.MRISpace`).
///
/// Every reader checks what it reads: counts against the file length (a truncated binary
/// file is reported at the byte offset where the incomplete element starts), face indices
/// against the vertex count, coordinates for NaN and infinity. Readers keep the triangle
/// winding of the file and drop nothing; unused vertices are kept.
public enum MeshFile {
    /// How to write a mesh.
    public enum WriteFormat: Equatable, Sendable, CaseIterable {
        /// PLY, ASCII, coordinates as `double` (exact round trip).
        case plyASCII
        /// PLY, binary little-endian, coordinates as `double` (exact round trip).
        case plyBinaryLittleEndian
        /// PLY, binary big-endian, coordinates as `double` (exact round trip).
        case plyBinaryBigEndian
        /// Binary STL (32-bit floats, unindexed triangles).
        case stlBinary
        /// ASCII STL, coordinates at full double precision.
        case stlASCII
        /// Wavefront OBJ, coordinates at full double precision.
        case obj
        /// FreeSurfer triangle surface (32-bit floats), creation line "created by CoilNav".
        case freeSurfer

        /// The format a file written this way is read as.
        public var readFormat: MeshFormat {
            switch self {
            case .plyASCII, .plyBinaryLittleEndian, .plyBinaryBigEndian: return .ply
            case .stlBinary, .stlASCII: return .stl
            case .obj: return .obj
            case .freeSurfer: return .freeSurfer
            }
        }
    }

    /// The format of a file, from the extension of `source` (`.ply`, `.stl`, `.obj`, any
    /// case) or else from its first bytes (the FreeSurfer magic number, or `ply` for PLY
    /// files without the extension); `nil` when neither tells.
    public static func detectFormat(source: String, data: Data) -> MeshFormat? {
        switch (source as NSString).pathExtension.lowercased() {
        case "ply": return .ply
        case "stl": return .stl
        case "obj": return .obj
        default: break
        }
        let head = [UInt8](data.prefix(4))
        if let magic = FreeSurferSurface.magic(head),
            [FreeSurferSurface.triangleMagic, FreeSurferSurface.quadMagic, FreeSurferSurface.newQuadMagic].contains(magic)
        {
            return .freeSurfer
        }
        if head.starts(with: Array("ply\n".utf8)) || head.starts(with: Array("ply\r".utf8)) { return .ply }
        return nil
    }

    /// Parses a mesh from bytes.
    ///
    /// - Parameters:
    ///   - data: the file's bytes.
    ///   - source: the file name or path: used in error messages and, when `format` is `nil`,
    ///     to detect the format (see `detectFormat(source:data:)`).
    ///   - format: the format, or `nil` to detect it.
    public static func parse(data: Data, source: String, format: MeshFormat? = nil) throws(FileFormatError) -> TriangleMesh {
        guard let format = format ?? Self.detectFormat(source: source, data: data) else {
            throw FileFormatError(
                file: source,
                message: "cannot tell the mesh format: expected a .ply, .stl or .obj file or a FreeSurfer triangle surface")
        }
        let bytes = [UInt8](data)
        switch format {
        case .ply: return try PLY.read(bytes, source: source)
        case .stl: return try STL.read(bytes, source: source)
        case .obj: return try OBJ.read(bytes, source: source)
        case .freeSurfer: return try FreeSurferSurface.read(bytes, source: source)
        }
    }

    /// Reads a mesh file, choosing the format by extension (`.ply`, `.stl`, `.obj`) or, for
    /// other names such as `lh.seghead` or `scalp.surf`, by content.
    public static func read(path: String) throws(FileFormatError) -> TriangleMesh {
        try Self.parse(data: try FileAccess.read(path: path), source: path)
    }

    /// The bytes of a mesh file. The mesh must have at least one triangle, finite coordinates
    /// and valid indices; formats that store 32-bit floats also need every coordinate to fit.
    /// Errors name `destination`.
    public static func serialize(_ mesh: TriangleMesh, format: WriteFormat, destination: String = "mesh") throws(FileFormatError) -> Data {
        let bytes: [UInt8]
        switch format {
        case .plyASCII: bytes = try PLY.write(mesh, encoding: .ascii, destination: destination)
        case .plyBinaryLittleEndian: bytes = try PLY.write(mesh, encoding: .binaryLittleEndian, destination: destination)
        case .plyBinaryBigEndian: bytes = try PLY.write(mesh, encoding: .binaryBigEndian, destination: destination)
        case .stlBinary: bytes = try STL.writeBinary(mesh, destination: destination)
        case .stlASCII: bytes = try STL.writeASCII(mesh, destination: destination)
        case .obj: bytes = try OBJ.write(mesh, destination: destination)
        case .freeSurfer: bytes = try FreeSurferSurface.write(mesh, comment: "created by CoilNav", destination: destination)
        }
        return Data(bytes)
    }

    /// Writes a mesh file atomically.
    public static func write(_ mesh: TriangleMesh, path: String, format: WriteFormat) throws(FileFormatError) {
        try FileAccess.write(try Self.serialize(mesh, format: format, destination: path), path: path)
    }
}
