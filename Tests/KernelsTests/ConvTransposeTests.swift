// PackedConvTranspose against ReferenceConvTranspose over sweeps, and the reference against hand values.
import Kernels
import TestSupport
import XCTest

final class ConvTransposeTests: XCTestCase {
    func testReferenceHandComputed() {
        // 1D: x = [1 2], w = [1 10 100], stride 2: y = [1 10 100+2 20 200]; pads 1/1 crop to [10 102 20].
        let g = ConvTransposeGeometry(inChannels: 1, outChannels: 1, kernel: [3], strides: [2])
        XCTAssertEqual(g.outputSpatial(for: [2]), [5])
        var y = [Float](repeating: 0, count: 5)
        ReferenceConvTranspose.forward(g, batch: 1, inputSpatial: [2], input: [1, 2], weight: [1, 10, 100],
                                       bias: nil, output: &y)
        XCTAssertEqual(y, [1, 10, 102, 20, 200])
        let cropped = ConvTransposeGeometry(inChannels: 1, outChannels: 1, kernel: [3], strides: [2],
                                            padsBegin: [1], padsEnd: [1], outputPadding: [1])
        XCTAssertEqual(cropped.outputSpatial(for: [2]), [4])
        var z = [Float](repeating: 0, count: 4)
        ReferenceConvTranspose.forward(cropped, batch: 1, inputSpatial: [2], input: [1, 2], weight: [1, 10, 100],
                                       bias: [1], output: &z)
        XCTAssertEqual(z, [11, 103, 21, 201])
    }

    func testSweep() {
        var seed: UInt64 = 600
        for (k, s, d, pb, pe, op, spatial) in [
            ([3, 3], [2, 2], [1, 1], [1, 1], [1, 1], [1, 1], [5, 6]),
            ([4, 4], [2, 2], [1, 1], [1, 1], [1, 1], [0, 0], [7, 5]),
            ([2, 2], [2, 2], [1, 1], [0, 0], [0, 0], [0, 0], [4, 4]),
            ([3, 2], [1, 3], [2, 1], [0, 1], [2, 0], [0, 2], [5, 4]),
            ([3, 3, 3], [2, 2, 2], [1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], [3, 4, 5]),
            ([1, 2, 2], [1, 2, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [2, 3, 3]),
            ([1, 1], [1, 1], [1, 1], [0, 0], [0, 0], [0, 0], [6, 5]),
        ] {
            for (cin, cout, group) in [(3, 4, 1), (4, 6, 2), (4, 4, 4)] {
                seed += 1
                var rng = SplitMix64(seed: seed)
                let g = ConvTransposeGeometry(inChannels: cin, outChannels: cout, group: group, kernel: k,
                                              strides: s, dilations: d, padsBegin: pb, padsEnd: pe, outputPadding: op)
                let batch = 2
                let x = randomFloats(batch * cin * spatial.reduce(1, *), &rng)
                let w = randomFloats(g.weightCount, &rng)
                let b = randomFloats(cout, &rng)
                let n = batch * cout * g.outputSpatial(for: spatial).reduce(1, *)
                let r = randomFloats(n, &rng)
                var ref = [Float](repeating: .nan, count: n), fast = ref
                ReferenceConvTranspose.forward(g, batch: batch, inputSpatial: spatial, input: x, weight: w, bias: b,
                                               output: &ref, residual: r, activation: .relu)
                let packed = PackedConvTranspose(g, weight: w, bias: b)
                var ws = [Float](repeating: .nan, count: packed.workspaceCount(batch: batch, inputSpatial: spatial))
                packed.run(batch: batch, inputSpatial: spatial, input: x, output: &fast, residual: r,
                           activation: .relu, workspace: &ws)
                assertClose(fast, ref, "\(g)")
            }
        }
    }
}
