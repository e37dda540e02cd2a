// BLAS sgemm against the plain reference, over transposes, odd sizes, strides and alpha/beta.
import Kernels
import XCTest

final class GemmTests: XCTestCase {
    func testBLASMatchesReference() {
        var rng = SystemRandomNumberGenerator()
        // The last two are big enough to be split across workers (along N, then along M).
        let shapes = [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 1, 5), (2, 31, 0), (40, 301, 190), (299, 33, 230)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    let lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3
                    let a = (0..<(max(transA ? k : m, 1) * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
                    let b = (0..<(max(transB ? n : k, 1) * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
                    let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
                    var fast = c0, ref = c0
                    Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                               b: b, ldb: ldb, beta: 2, c: &fast, ldc: ldc)
                    ReferenceGemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a,
                                        lda: lda, b: b, ldb: ldb, beta: 2, c: &ref, ldc: ldc)
                    for i in 0..<fast.count {
                        XCTAssertEqual(fast[i], ref[i], accuracy: 1e-4,
                                       "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)")
                    }
                }
            }
        }
    }

    func testThreadKnob() {
        let saved = KernelThreads.current
        defer { KernelThreads.set(saved) }
        KernelThreads.set(1)
        XCTAssertEqual(KernelThreads.current, 1)
        KernelThreads.set(0)  // clamped
        XCTAssertEqual(KernelThreads.current, 1)
    }
}
