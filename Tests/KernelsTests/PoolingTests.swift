// Pooling against hand-computed cases (ONNX MaxPool Indices, count_include_pad, ceil_mode) and against
// ReferencePooling over sweeps.
import Kernels
import TestSupport
import XCTest

final class PoolingTests: XCTestCase {
    func testMaxPoolIndicesIncludePlaneOffset() {
        // Two planes of 4×4; 2×2 stride 2. Indices are flat over the whole N·C·H·W input.
        let plane0: [Float] = [1, 5, 2, 0,
                               3, 4, 9, 1,
                               0, 0, 1, 1,
                               7, 0, 1, 8]
        let plane1 = plane0.map { -$0 }
        let g = PoolGeometry(kernel: [2, 2], strides: [2, 2])
        var y = [Float](repeating: 0, count: 8)
        var idx = [Int64](repeating: 0, count: 8)
        for pool in [Pooling.maxPool, ReferencePooling.maxPool] {
            pool(g, 2, [4, 4], plane0 + plane1, &y, &idx)
            XCTAssertEqual(y, [5, 9, 7, 8, -1, 0, 0, -1])
            // plane 1: first window -1,-5,-3,-4 → -1 at 0 (+16); second -2,0,-9,-1 → 0 at 3 (+16);
            // third 0,0,-7,0 → first 0 at 8 (+16); fourth -1,-1,-1,-8 → first -1 at 10 (+16)
            XCTAssertEqual(idx, [1, 6, 12, 15, 16, 19, 24, 26])
        }
    }

    func testMaxPoolPaddingAndCeilMode() {
        // 1D: x = [3 1 4 1 5], k 2, stride 2, pad begin 1, ceil mode → windows [-1,0] [1,2] [3,4]
        let g = PoolGeometry(kernel: [2], strides: [2], padsBegin: [1], padsEnd: [0], ceilMode: true)
        XCTAssertEqual(g.outputSpatial(for: [5]), [3])
        var y = [Float](repeating: 0, count: 3)
        var idx = [Int64](repeating: 0, count: 3)
        Pooling.maxPool(g, planes: 1, inputSpatial: [5], input: [3, 1, 4, 1, 5], output: &y, indices: &idx)
        XCTAssertEqual(y, [3, 4, 5])
        XCTAssertEqual(idx, [0, 2, 4])
        // ceil mode: a window starting in the end padding is dropped: in 4, k 2, s 2, pads 0/1 → 2 not 3.
        XCTAssertEqual(PoolGeometry(kernel: [2], strides: [2], padsEnd: [1], ceilMode: true)
            .outputSpatial(for: [4]), [2])
        XCTAssertEqual(PoolGeometry(kernel: [3], strides: [2], ceilMode: true).outputSpatial(for: [6]), [3])
        XCTAssertEqual(PoolGeometry(kernel: [3], strides: [2], ceilMode: false).outputSpatial(for: [6]), [2])
    }

    func testAveragePoolCountIncludePad() {
        // 1D x = [2 4 6], k 3, pad 1 each side: windows [p,2,4] [2,4,6] [4,6,p].
        let g = PoolGeometry(kernel: [3], padsBegin: [1], padsEnd: [1])
        var y = [Float](repeating: 0, count: 3)
        for pool in [Pooling.averagePool, ReferencePooling.averagePool] {
            pool(g, true, 1, [3], [2, 4, 6], &y)
            XCTAssertEqual(y, [2, 4, 10.0 / 3])
            pool(g, false, 1, [3], [2, 4, 6], &y)
            XCTAssertEqual(y, [3, 4, 5])
        }
        // ceil mode: the last window [4,5,(6)] runs past the input with no end pad: divisor 2 either way.
        let c = PoolGeometry(kernel: [3], strides: [2], ceilMode: true)
        var z = [Float](repeating: 0, count: 3)
        for include in [true, false] {
            Pooling.averagePool(c, countIncludePad: include, planes: 1, inputSpatial: [6],
                                input: [1, 2, 3, 4, 5, 6], output: &z)
            XCTAssertEqual(z, [2, 4, 5.5])
        }
    }

    func testGlobalPools() {
        var rng = SplitMix64(seed: 7)
        let planes = 5, size = 37
        let x = randomFloats(planes * size, &rng)
        var avg = [Float](repeating: 0, count: planes), mx = avg
        Pooling.globalAverage(planes: planes, planeSize: size, input: x, output: &avg)
        Pooling.globalMax(planes: planes, planeSize: size, input: x, output: &mx)
        for p in 0..<planes {
            let plane = x[(p * size)..<((p + 1) * size)]
            XCTAssertEqual(avg[p], plane.reduce(0, +) / Float(size), accuracy: 1e-5)
            XCTAssertEqual(mx[p], plane.max()!)
        }
    }

    func testTwoByTwoMaxPoolKeepsTheReferencesNaNAndInfinityRules() {
        let g = PoolGeometry(kernel: [2, 2], strides: [2, 2], dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0],
                             ceilMode: false)
        let x: [Float] = [.nan, 1, -.infinity, -.infinity, 2, .nan, -.infinity, -.infinity,
                          3, 3, -1, .nan, -2, 3, .nan, .nan]
        var fast = [Float](repeating: 0, count: 4), ref = fast
        Pooling.maxPool(g, planes: 1, inputSpatial: [4, 4], input: x, output: &fast, indices: nil)
        ReferencePooling.maxPool(g, planes: 1, inputSpatial: [4, 4], input: x, output: &ref, indices: nil)
        XCTAssertEqual(fast.map(\.bitPattern), ref.map(\.bitPattern))
        XCTAssertEqual(fast[0], 2)
        XCTAssertEqual(fast[1], -.infinity)
    }

    func testSweepAgainstReference() {
        var seed: UInt64 = 500
        for (k, s, d, pb, pe, spatial) in [
            ([3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [13, 11]), ([2, 2], [2, 2], [1, 1], [0, 0], [0, 0], [8, 9]),
            ([3, 2], [1, 2], [2, 1], [2, 0], [1, 1], [10, 7]), ([1, 3, 3], [1, 2, 2], [1, 1, 1], [0, 1, 1],
                                                                [0, 1, 1], [4, 9, 9]),
            ([3, 3, 3], [2, 2, 2], [1, 1, 1], [1, 1, 1], [1, 1, 1], [5, 8, 7]),
            ([2, 2, 2], [2, 2, 2], [1, 1, 1], [0, 0, 0], [1, 0, 1], [5, 5, 5]),
            ([4], [3], [1], [1], [2], [20]),
            ([2, 2], [2, 2], [1, 1], [0, 0], [0, 0], [9, 12]), ([2, 2], [2, 2], [1, 1], [0, 0], [1, 1], [7, 7]),
        ] {
            for ceil in [false, true] {
                seed += 1
                var rng = SplitMix64(seed: seed)
                let g = PoolGeometry(kernel: k, strides: s, dilations: d, padsBegin: pb, padsEnd: pe, ceilMode: ceil)
                let planes = 3
                let x = randomFloats(planes * spatial.reduce(1, *), &rng)
                let n = planes * g.outputSpatial(for: spatial).reduce(1, *)
                var fast = [Float](repeating: .nan, count: n), ref = fast
                var fastIdx = [Int64](repeating: -7, count: n), refIdx = fastIdx
                Pooling.maxPool(g, planes: planes, inputSpatial: spatial, input: x, output: &fast, indices: &fastIdx)
                ReferencePooling.maxPool(g, planes: planes, inputSpatial: spatial, input: x, output: &ref,
                                         indices: &refIdx)
                XCTAssertEqual(fast, ref, "max \(g)")
                XCTAssertEqual(fastIdx, refIdx, "max indices \(g)")
                // Without indices (the 2×2 / 2 fast path where it applies): the same values.
                var plain = [Float](repeating: .nan, count: n)
                Pooling.maxPool(g, planes: planes, inputSpatial: spatial, input: x, output: &plain, indices: nil)
                XCTAssertEqual(plain, ref, "max without indices \(g)")
                for include in [false, true] {
                    Pooling.averagePool(g, countIncludePad: include, planes: planes, inputSpatial: spatial, input: x,
                                        output: &fast)
                    ReferencePooling.averagePool(g, countIncludePad: include, planes: planes, inputSpatial: spatial,
                                                 input: x, output: &ref)
                    assertClose(fast, ref, "avg include \(include) \(g)")
                }
            }
        }
    }
}
