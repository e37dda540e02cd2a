// PackedConv (the fast path) against ReferenceConv over shape sweeps, and ReferenceConv against hand-computed
// values so the ground truth itself is checked.
@testable import Kernels
import TestSupport
import XCTest

final class ConvTests: XCTestCase {
    /// One sweep case: runs both kernels on the same random data and compares.
    private func check(
        _ g: ConvGeometry, batch: Int, spatial: [Int], withBias: Bool = true, withResidual: Bool = false,
        activation: ConvActivation = .none, seed: UInt64, file: StaticString = #filePath, line: UInt = #line
    ) {
        var rng = SplitMix64(seed: seed)
        let input = randomFloats(batch * g.inChannels * spatial.reduce(1, *), &rng)
        let weight = randomFloats(g.weightCount, &rng)
        let bias = withBias ? randomFloats(g.outChannels, &rng) : nil
        let outSpatial = g.outputSpatial(for: spatial)
        let outCount = batch * g.outChannels * outSpatial.reduce(1, *)
        let residual = withResidual ? randomFloats(outCount, &rng) : nil
        var expected = [Float](repeating: .nan, count: outCount)
        var actual = [Float](repeating: .nan, count: outCount)
        let call = { (bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?) in
            ReferenceConv.forward(g, batch: batch, inputSpatial: spatial, input: input, weight: weight, bias: bias,
                                  output: &expected, residual: residual, activation: activation)
            let packed = PackedConv(g, weight: weight, bias: bias)
            var workspace = [Float](repeating: .nan, count: max(1, packed.workspaceCount(batch: batch,
                                                                                          inputSpatial: spatial)))
            packed.run(batch: batch, inputSpatial: spatial, input: input, output: &actual, residual: residual,
                       activation: activation, workspace: &workspace)
        }
        // Twice: default tiling (small shapes lower whole), then tiny tiles that start mid-row.
        let defaults = (PackedConv.tileFloats, PackedConv.minimumTileColumns, PackedConv.columnsPerOutputChannel)
        for (tileFloats, minimumColumns, perChannel) in [defaults, (64, 16, 0)] {
            (PackedConv.tileFloats, PackedConv.minimumTileColumns, PackedConv.columnsPerOutputChannel) =
                (tileFloats, minimumColumns, perChannel)
            defer {
                (PackedConv.tileFloats, PackedConv.minimumTileColumns, PackedConv.columnsPerOutputChannel) = defaults
            }
            actual = [Float](repeating: .nan, count: outCount)
            switch (bias, residual) {
            case let (b?, r?): call(b, r)
            case let (b?, nil): call(b, nil)
            case let (nil, r?): call(nil, r)
            case (nil, nil): call(nil, nil)
            }
            assertClose(actual, expected, "\(g) batch \(batch) spatial \(spatial) act \(activation) tile \(tileFloats)",
                        file: file, line: line)
        }
    }

    func testReferenceMatchesHandComputed1D() {
        // x = [1 2 3 4], w = [1 0 -1], pad 1 each side, bias 0.5: y[i] = x[i-1] - x[i+1] + 0.5
        let g = ConvGeometry(inChannels: 1, outChannels: 1, kernel: [3], padsBegin: [1], padsEnd: [1])
        var y = [Float](repeating: 0, count: 4)
        ReferenceConv.forward(g, batch: 1, inputSpatial: [4], input: [1, 2, 3, 4], weight: [1, 0, -1],
                              bias: [0.5], output: &y)
        XCTAssertEqual(y, [-1.5, -1.5, -1.5, 3.5])
    }

    func testReferenceMatchesHandComputed2DStridedGrouped() {
        // 2 groups, 1 channel each; 2×2 kernel of ones, stride 2 over a 4×4 ramp: block sums, group 2 negated.
        let g = ConvGeometry(inChannels: 2, outChannels: 2, group: 2, kernel: [2, 2], strides: [2, 2])
        let plane = (0..<16).map(Float.init)
        var y = [Float](repeating: 0, count: 8)
        ReferenceConv.forward(g, batch: 1, inputSpatial: [4, 4], input: plane + plane,
                              weight: [1, 1, 1, 1, -1, -1, -1, -1], bias: nil, output: &y,
                              residual: [0, 0, 0, 0, 100, 0, 0, 0], activation: .relu)
        XCTAssertEqual(y, [10, 18, 42, 50, 90, 0, 0, 0])
    }

    func testFused1x1AndPointwise() {
        for (k, s, spatial) in [([1, 1, 1], [1, 1, 1], [3, 5, 7]), ([1, 1], [2, 2], [9, 7]), ([1], [1], [13])] {
            let g = ConvGeometry(inChannels: 6, outChannels: 10, kernel: k, strides: s)
            check(g, batch: 2, spatial: spatial, withResidual: true, activation: .relu, seed: 11)
        }
    }

    func testResidualInPlace() {
        // The residual may be the output buffer itself (the engine reuses the skip tensor's memory).
        var rng = SplitMix64(seed: 31)
        for g in [
            ConvGeometry(inChannels: 4, outChannels: 6, kernel: [3, 3], padsBegin: [1, 1], padsEnd: [1, 1]),
            ConvGeometry(inChannels: 4, outChannels: 6, kernel: [1, 1]),
            ConvGeometry(inChannels: 4, outChannels: 4, group: 4, kernel: [3, 3], padsBegin: [1, 1], padsEnd: [1, 1]),
            ConvGeometry(inChannels: 4, outChannels: 6, kernel: [3, 1], padsBegin: [2, 0], padsEnd: [0, 0]),
            ConvGeometry(inChannels: 4, outChannels: 6, kernel: [3, 1, 1], padsBegin: [2, 0, 0], padsEnd: [0, 0, 0]),
            ConvGeometry(inChannels: 4, outChannels: 6, kernel: [2, 3, 1], padsBegin: [2, 1, 0], padsEnd: [0, 1, 0]),
        ] {
            let spatial = g.rank == 3 ? [7, 5, 1] : [7, 5]
            let x = randomFloats(2 * 4 * 35, &rng), w = randomFloats(g.weightCount, &rng)
            let outCount = 2 * g.outChannels * g.outputSpatial(for: spatial).reduce(1, *)
            let b = randomFloats(g.outChannels, &rng), r = randomFloats(outCount, &rng)
            var expected = [Float](repeating: 0, count: r.count)
            ReferenceConv.forward(g, batch: 2, inputSpatial: spatial, input: x, weight: w, bias: b, output: &expected,
                                  residual: r, activation: .relu)
            let packed = PackedConv(g, weight: w, bias: b)
            var workspace = [Float](repeating: 0, count: max(1, packed.workspaceCount(batch: 2, inputSpatial: spatial)))
            var buffer = r
            buffer.withUnsafeMutableBufferPointer { out in
                packed.run(batch: 2, inputSpatial: spatial, input: x, output: out.baseAddress!,
                           residual: UnsafePointer(out.baseAddress!), activation: .relu, workspace: &workspace)
            }
            assertClose(buffer, expected, "in place \(g)")
        }
    }

    func testConcurrentRunsShareOnePackedConv() {
        // One PackedConv serving several callers at once (each with its own workspace): OpenBLAS is called from
        // many threads at a time, which this checks as well.
        let g = ConvGeometry(inChannels: 8, outChannels: 12, kernel: [3, 3, 3], padsBegin: [1, 1, 1],
                             padsEnd: [1, 1, 1])
        let spatial = [4, 9, 10]
        var rng = SplitMix64(seed: 41)
        let x = randomFloats(8 * spatial.reduce(1, *), &rng), w = randomFloats(g.weightCount, &rng)
        let outCount = 12 * spatial.reduce(1, *)
        var expected = [Float](repeating: 0, count: outCount)
        ReferenceConv.forward(g, batch: 1, inputSpatial: spatial, input: x, weight: w, bias: nil, output: &expected)
        let packed = PackedConv(g, weight: w, bias: nil)
        let callers = 6
        let results = UnsafeMutablePointer<Float>.allocate(capacity: callers * outCount)
        defer { results.deallocate() }
        nonisolated(unsafe) let shared = results
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            var workspace = [Float](repeating: 0, count: packed.workspaceCount(batch: 1, inputSpatial: spatial))
            packed.run(batch: 1, inputSpatial: spatial, input: x, output: shared + caller * outCount,
                       workspace: &workspace)
        }
        for caller in 0..<callers {
            assertClose(Array(UnsafeBufferPointer(start: results + caller * outCount, count: outCount)), expected,
                        "caller \(caller)")
        }
    }

    func testSmallOutputsSplitByChannelBlocks() {
        // Few pixels and many output channels: run splits output channels across workers.
        let g = ConvGeometry(inChannels: 8, outChannels: 40, kernel: [3, 3], padsBegin: [1, 1], padsEnd: [1, 1])
        check(g, batch: 1, spatial: [5, 6], withResidual: true, activation: .relu, seed: 21)
        let p = ConvGeometry(inChannels: 8, outChannels: 48, kernel: [1, 1, 1])
        check(p, batch: 1, spatial: [2, 3, 3], withResidual: true, activation: .relu, seed: 22)
    }

    func testSweep2D() {
        var seed: UInt64 = 100
        for (k, s, d, pb, pe) in [
            ([3, 3], [1, 1], [1, 1], [1, 1], [1, 1]), ([3, 3], [2, 2], [1, 1], [1, 1], [1, 1]),
            ([7, 7], [2, 2], [1, 1], [3, 3], [3, 3]), ([3, 5], [1, 2], [2, 1], [0, 2], [2, 1]),
            ([2, 2], [2, 3], [1, 1], [0, 0], [1, 0]), ([3, 3], [1, 1], [3, 2], [2, 0], [0, 3]),
            ([3, 3], [3, 1], [2, 1], [1, 1], [2, 0]), ([5, 3], [2, 1], [1, 1], [2, 1], [1, 1]),
            ([2, 3], [4, 2], [3, 1], [0, 1], [3, 1]),
        ] {
            for (cin, cout, group) in [(3, 5, 1), (4, 6, 2), (8, 8, 8), (6, 12, 3)] {
                seed += 1
                let g = ConvGeometry(inChannels: cin, outChannels: cout, group: group, kernel: k, strides: s,
                                     dilations: d, padsBegin: pb, padsEnd: pe)
                check(g, batch: seed % 2 == 0 ? 2 : 1, spatial: [11, 9], withBias: seed % 3 != 0,
                      withResidual: seed % 2 == 1, activation: seed % 4 == 0 ? .relu : .none, seed: seed)
            }
        }
    }

    func testSweep3D() {
        var seed: UInt64 = 200
        for (k, s, pb, pe) in [
            ([3, 3, 3], [1, 1, 1], [1, 1, 1], [1, 1, 1]), ([3, 3, 3], [2, 2, 2], [1, 1, 1], [1, 1, 1]),
            ([1, 3, 3], [1, 2, 2], [0, 1, 1], [0, 1, 1]), ([3, 1, 1], [2, 1, 1], [1, 0, 0], [1, 0, 0]),
            ([1, 3, 3], [1, 1, 1], [0, 1, 1], [0, 1, 1]), ([1, 3, 2], [2, 1, 2], [0, 0, 1], [0, 2, 0]),
            ([3, 7, 7], [1, 2, 2], [1, 3, 3], [1, 3, 3]), ([1, 1, 1], [2, 2, 2], [0, 0, 0], [0, 0, 0]),
            ([2, 3, 2], [1, 1, 2], [0, 2, 1], [1, 0, 0]),
        ] {
            for (cin, cout, group) in [(3, 4, 1), (4, 4, 4), (6, 4, 2)] {
                seed += 1
                let g = ConvGeometry(inChannels: cin, outChannels: cout, group: group, kernel: k, strides: s,
                                     padsBegin: pb, padsEnd: pe)
                check(g, batch: seed % 2 == 0 ? 2 : 1, spatial: [5, 9, 7], withResidual: seed % 2 == 0,
                      activation: seed % 3 == 0 ? .relu : .none, seed: seed)
            }
        }
        // Frames whose whole window is padding; temporal dilation and stride with spatial stride; groups.
        for (k, s, d, pb, pe, cin, cout, group) in [
            ([2, 3, 3], [1, 1, 1], [1, 1, 1], [2, 1, 1], [0, 1, 1], 3, 5, 1),
            ([3, 3, 3], [2, 2, 1], [2, 1, 1], [2, 0, 1], [1, 1, 0], 4, 6, 2),
            ([3, 2, 2], [1, 1, 1], [1, 1, 1], [1, 0, 0], [1, 0, 0], 2, 40, 1),
        ] {
            seed += 1
            let g = ConvGeometry(inChannels: cin, outChannels: cout, group: group, kernel: k, strides: s,
                                 dilations: d, padsBegin: pb, padsEnd: pe)
            check(g, batch: 2, spatial: [5, 6, 7], withResidual: true, activation: .relu, seed: seed)
        }
        // Dilated 3D.
        let g = ConvGeometry(inChannels: 2, outChannels: 3, kernel: [2, 3, 3], dilations: [2, 2, 1],
                             padsBegin: [1, 2, 1], padsEnd: [0, 1, 1])
        check(g, batch: 1, spatial: [6, 8, 5], seed: 299)
    }

    func testTemporalKernels() {
        // k×1×1 convs (R(2+1)D's temporal convs) take the per-tap sgemm path with no lowering.
        var seed: UInt64 = 800
        for (k, s, d, pb, pe, cin, cout, group) in [
            (3, 1, 1, 1, 1, 6, 5, 1), (3, 2, 1, 1, 1, 6, 5, 1), (3, 1, 2, 2, 0, 4, 4, 2), (2, 1, 1, 0, 1, 3, 40, 1),
            (5, 3, 1, 0, 0, 4, 6, 1), (3, 1, 1, 3, 3, 2, 3, 1), (1, 2, 1, 0, 0, 4, 4, 1),
        ] {
            seed += 1
            let g = ConvGeometry(inChannels: cin, outChannels: cout, group: group, kernel: [k, 1, 1],
                                 strides: [s, 1, 1], dilations: [d, 1, 1], padsBegin: [pb, 0, 0], padsEnd: [pe, 0, 0])
            check(g, batch: 2, spatial: [7, 5, 3], withResidual: seed % 2 == 0, activation: .relu, seed: seed)
        }
    }

    func testSweep1D() {
        var seed: UInt64 = 300
        for (k, s, d, pb, pe) in [([3], [1], [1], [1], [1]), ([5], [2], [1], [2], [1]), ([3], [1], [4], [4], [0])] {
            for (cin, cout, group) in [(2, 3, 1), (4, 4, 4)] {
                seed += 1
                let g = ConvGeometry(inChannels: cin, outChannels: cout, group: group, kernel: k, strides: s,
                                     dilations: d, padsBegin: pb, padsEnd: pe)
                check(g, batch: 2, spatial: [17], seed: seed)
            }
        }
    }

    func testDepthwise() {
        var seed: UInt64 = 700
        for (k, s, d, pb, pe, spatial) in [
            ([3, 3], [1, 1], [1, 1], [1, 1], [1, 1], [9, 11]), ([3, 3], [2, 2], [1, 1], [1, 0], [1, 1], [9, 10]),
            ([5, 5], [1, 1], [2, 1], [4, 2], [4, 2], [8, 8]), ([3, 3, 3], [1, 2, 2], [1, 1, 1], [1, 1, 1], [1, 1, 1],
                                                               [4, 7, 9]),
            ([7], [3], [1], [3], [2], [30]),
        ] {
            seed += 1
            let g = ConvGeometry(inChannels: 5, outChannels: 5, group: 5, kernel: k, strides: s, dilations: d,
                                 padsBegin: pb, padsEnd: pe)
            check(g, batch: 2, spatial: spatial, withResidual: true, activation: .clip(-0.3, 0.4), seed: seed)
        }
    }

    func testActivations() {
        let g = ConvGeometry(inChannels: 3, outChannels: 4, kernel: [3, 3], padsBegin: [1, 1], padsEnd: [1, 1])
        for act in [ConvActivation.none, .relu, .leakyRelu(0.1), .clip(-0.5, 0.7), .sigmoid, .hardSwish] {
            check(g, batch: 1, spatial: [7, 6], withResidual: true, activation: act, seed: 400)
        }
    }

    func testActivationFormulas() {
        XCTAssertEqual(ConvActivation.relu.apply(-2), 0)
        XCTAssertEqual(ConvActivation.leakyRelu(0.1).apply(-2), -0.2, accuracy: 1e-7)
        XCTAssertEqual(ConvActivation.clip(0, 6).apply(7), 6)
        XCTAssertEqual(ConvActivation.sigmoid.apply(0), 0.5)
        XCTAssertEqual(ConvActivation.hardSwish.apply(1), 1 * (1.0 / 6 + 0.5), accuracy: 1e-7)
        XCTAssertEqual(ConvActivation.hardSwish.apply(-4), 0)
        XCTAssertEqual(ConvActivation.hardSwish.apply(4), 4)
    }

    func testOutputSpatial() {
        let g = ConvGeometry(inChannels: 1, outChannels: 1, kernel: [3, 7], strides: [2, 2], dilations: [2, 1],
                             padsBegin: [1, 3], padsEnd: [0, 3])
        // (10 + 1 - 5) / 2 + 1 = 4; (224 + 6 - 7) / 2 + 1 = 112
        XCTAssertEqual(g.outputSpatial(for: [10, 224]), [4, 112])
    }
}
