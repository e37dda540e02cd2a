// Shared helpers for kernel tests: random tensors from the seeded generator, and the tolerance rule.
import Kernels
import TestSupport
import XCTest

func randomFloats(_ count: Int, _ rng: inout SplitMix64, range: ClosedRange<Float> = -1...1) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &rng) }
}

/// Max |a − b| ≤ 1e-4 · max(1, max |reference|), the tolerance every fast kernel is held to.
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
