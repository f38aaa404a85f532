// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CoilNav",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "coilnav", targets: ["coilnav"]),
        .library(name: "Geometry", targets: ["Geometry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure rigid-body maths and small dense linear algebra. No Foundation, no I/O.
        .target(name: "Geometry"),
        // Registration: paired-point and pivot calibration, and point-to-plane ICP surface refinement.
        .target(name: "Registration", dependencies: ["Geometry"]),
        // Coil placement on the scalp from a cortical target (SimNIBS coil frame).
        .target(name: "Planning", dependencies: ["Geometry"]),
        // The `coilnav` commands, as a library so tests can drive them in-process.
        .target(
            name: "CoilNavCLI",
            dependencies: [
                "Geometry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "coilnav", dependencies: ["CoilNavCLI"]),
        .testTarget(name: "GeometryTests", dependencies: ["Geometry"]),
        .testTarget(name: "SurfaceTests", dependencies: ["Geometry", "Registration", "Planning"]),
    ]
)
