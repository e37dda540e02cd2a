// Shared helpers for kernel tests: a seeded generator, random tensors, and the tolerance rule of issue 3.
import Kernels
import XCTest

/// SplitMix64: deterministic so a failing sweep case reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomFloats(_ count: Int, _ rng: inout SeededGenerator, range: ClosedRange<Float> = -1...1) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Max |a − b| ≤ 1e-4 · max(1, max |reference|), the tolerance.
func assertClose(
    _ actual: [Float], _ reference: [Float], _ context: @autoclosure () -> String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, reference.count, "count: \(context())", file: file, line: line)
    let scale = max(1, reference.reduce(0) { max($0, abs($1)) })
    var worst: Float = 0, worstIndex = 0
    for i in 0..<min(actual.count, reference.count) {
        let diff = abs(actual[i] - reference[i])
        if !(diff <= worst) { worst = diff; worstIndex = i }  // NaN counts as worst
    }
    XCTAssert(worst <= 1e-4 * scale,
              "max diff \(worst) at \(worstIndex) (tolerance \(1e-4 * scale)): \(context())", file: file, line: line)
}
