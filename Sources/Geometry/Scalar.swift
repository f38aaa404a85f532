#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Thin wrappers over libm so the rest of the module reads as maths and stays free of Foundation.

@inlinable public func atan2Double(_ y: Double, _ x: Double) -> Double { atan2(y, x) }
@inlinable public func sinDouble(_ x: Double) -> Double { sin(x) }
@inlinable public func cosDouble(_ x: Double) -> Double { cos(x) }
@inlinable public func acosDouble(_ x: Double) -> Double { acos(Swift.max(-1, Swift.min(1, x))) }
@inlinable public func logDouble(_ x: Double) -> Double { log(x) }

/// Converts radians to degrees.
@inlinable public func degrees(fromRadians r: Double) -> Double { r * 180 / Double.pi }

/// Converts degrees to radians.
@inlinable public func radians(fromDegrees d: Double) -> Double { d * Double.pi / 180 }
