// Branch-free exp and sigmoid that the compiler can vectorise (Glibc's expf is an opaque call per element).
// Cody–Waite range reduction plus a degree-6 polynomial (Cephes expf coefficients): within ~2 ulp of expf
// over the float range; tested against `expf` in FastMathTests.

public enum FastMath {
    /// e^x, with x clamped to [-87.3, 88.7] (results stay finite and normal).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.33654), 88.72283)
        // n = round(x / ln 2); r = x − n·ln 2 in two steps so r keeps its low bits.
        let n = (clamped * 1.44269504088896341).rounded(.toNearestOrEven)
        var r = clamped - n * 0.693359375
        r = r - n * -2.12194440e-4
        let r2 = r * r
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let polynomial = p * r2 + r + 1
        // 2^n from the exponent bits, with wrapping integer ops only (no trapping conversions, so loops over
        // this vectorise). Adding 1.5·2^23 puts the integer n in the low mantissa bits. n ∈ [-126, 128]; the
        // scale is split in two factors so n = 128 at the clamp edge stays finite.
        let shifted = Int32(bitPattern: (n + 12582912).bitPattern) &- 0x4B40_0000
        let half = shifted >> 1
        let scaleA = Float(bitPattern: UInt32(bitPattern: (half &+ 127) &<< 23))
        let scaleB = Float(bitPattern: UInt32(bitPattern: (shifted &- half &+ 127) &<< 23))
        return polynomial * scaleA * scaleB
    }

    /// 1 / (1 + e^-x).
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
}
