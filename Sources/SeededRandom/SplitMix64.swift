// Seeded random numbers: SplitMix64 and the helpers built on it, the same sequence for the same seed on every
// machine. The renderer draws everything that decides what a clip looks like from here (the standard
// library's generators and its `random(in:using:)` algorithms are not promised to stay the same across Swift
// versions); tests and fuzz campaigns use it for sweeps that repeat exactly.
import Foundation

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit state, one add and a mixing function per draw. Also a
/// `RandomNumberGenerator`, for the standard library's `random(in:using:)` and `shuffled(using:)` in tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    /// The SplitMix64 output function: a bijective avalanche mix of one word.
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A seed for stream `index` of `seed` (clip i of a run, frame i of a clip): streams do not overlap in
    /// practice and do not depend on the order they are used in.
    public static func derive(_ seed: UInt64, _ index: UInt64) -> UInt64 {
        mix(mix(seed ^ 0x5851_F42D_4C95_7F2D) &+ mix(index &+ 0x1405_7B7E_F767_814F))
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// Uniform integer in `range` (Lemire's multiply-shift; the tiny bias is irrelevant here).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next().multipliedFullWidth(by: span).high)
    }

    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// +1 or -1 with equal probability.
    public mutating func sign() -> Double { chance(0.5) ? 1 : -1 }

    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// Standard normal (Box–Muller; one of the pair is discarded to keep the state simple).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

