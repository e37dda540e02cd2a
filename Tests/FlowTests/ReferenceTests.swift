// The fast inner loops against plain, obviously-correct versions: the SIMD patch kernel (SSD, Gauss-Newton
// sums, densification weights), the separable polynomial expansion, the box filter and the pyramid.
import XCTest
@testable import Flow

final class ReferenceTests: XCTestCase {
    static func randomImage(_ w: Int, _ h: Int, seed: UInt64) -> GrayImage {
        var state = seed
        return GrayImage(width: w, height: h, pixels: (0..<(w * h)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 255
        })
    }

    /// Plain bilinear sample of the padded frame at absolute (x, y) in frame coordinates.
    static func sample(_ p: PaddedPlane, _ x: Double, _ y: Double) -> Double {
        let px = x + Double(p.border), py = y + Double(p.border)
        let x0 = Int(px.rounded(.down)), y0 = Int(py.rounded(.down))
        let fx = px - Double(x0), fy = py - Double(y0)
        func at(_ xx: Int, _ yy: Int) -> Double { Double(p.data[yy * p.stride + xx]) }
        return (1 - fx) * (1 - fy) * at(x0, y0) + fx * (1 - fy) * at(x0 + 1, y0) + (1 - fx) * fy * at(x0, y0 + 1)
            + fx * fy * at(x0 + 1, y0 + 1)
    }

    func testPatchKernelMatchesPlainSums() {
        for patch in [8, 12, 5, 1] {
            let w = 41, h = 29
            let i0 = Self.randomImage(w, h, seed: 1), i1 = Self.randomImage(w, h, seed: 2)
            let padded = PaddedPlane(i1, border: 16)
            let (gx, gy) = Pyramid.sobel(i0)
            i0.pixels.withUnsafeBufferPointer { i0p in gx.pixels.withUnsafeBufferPointer { gxp in
            gy.pixels.withUnsafeBufferPointer { gyp in padded.data.withUnsafeBufferPointer { i1p in
                for meanNorm in [true, false] {
                    let kernel = PatchKernel(i0: i0p.baseAddress!, gx: gxp.baseAddress!, gy: gyp.baseAddress!,
                                             i0Width: w, i1: i1p.baseAddress!, i1Stride: padded.stride, border: 16,
                                             width: w, height: h, patch: patch, meanNormalization: meanNorm)
                    for (ox, oy, u) in [(0, 0, SIMD2<Float>(0.3, 0.7)), (w - patch, h - patch, SIMD2(-2.25, 1.5)),
                                        (13, 7, SIMD2(3.9, -4.1)), (5, 11, SIMD2(0, 0))] {
                        // The kernel keeps at least half the patch inside frame 2: clamp the same way.
                        let half = Float(patch / 2)
                        let cx = min(max(Float(ox) + u.x, -half), Float(w - patch - 1) + half)
                        let cy = min(max(Float(oy) + u.y, -half), Float(h - patch - 1) + half)
                        let clamped = SIMD2(cx - Float(ox), cy - Float(oy))
                        let n = Double(patch * patch)
                        var sum = 0.0, sq = 0.0, dgx = 0.0, dgy = 0.0, sgx = 0.0, sgy = 0.0
                        for r in 0..<patch {
                            for c in 0..<patch {
                                let v = Self.sample(padded, Double(ox + c) + Double(clamped.x),
                                                   Double(oy + r) + Double(clamped.y))
                                let i = (oy + r) * w + ox + c
                                let d = v - Double(i0.pixels[i])
                                sum += d; sq += d * d
                                dgx += d * Double(gx.pixels[i]); dgy += d * Double(gy.pixels[i])
                                sgx += Double(gx.pixels[i]); sgy += Double(gy.pixels[i])
                            }
                        }
                        let mean = meanNorm ? sum / n : 0
                        let ssd = meanNorm ? sq - sum * sum / n : sq
                        let constants = PatchSearch.PatchConstants(h11: 0, h12: 0, h22: 0, sumGx: Float(sgx),
                                                                   sumGy: Float(sgy))
                        let (e, g) = kernel.residual(ox, oy, u, constants)
                        let tolerance = 1e-3 * max(1, sq)
                        XCTAssertEqual(Double(kernel.ssd(ox, oy, u)), ssd, accuracy: tolerance, "patch \(patch)")
                        XCTAssertEqual(Double(e), ssd, accuracy: tolerance)
                        XCTAssertEqual(Double(g.x), dgx - mean * sgx, accuracy: 1e-3 * max(1, abs(dgx)) + 0.05)
                        XCTAssertEqual(Double(g.y), dgy - mean * sgy, accuracy: 1e-3 * max(1, abs(dgy)) + 0.05)

                        // Densification weights for the same patch.
                        var su = [Float](repeating: 0, count: w * h), sv = su, sw = su
                        su.withUnsafeMutableBufferPointer { a in sv.withUnsafeMutableBufferPointer { b in
                            sw.withUnsafeMutableBufferPointer { c in
                                kernel.accumulate(ox: ox, oy: oy, rows: oy..<(oy + patch), u: u, sumU: a.baseAddress!,
                                                  sumV: b.baseAddress!, sumW: c.baseAddress!)
                            }}}
                        for r in 0..<patch {
                            for c in 0..<patch {
                                let i = (oy + r) * w + ox + c
                                let v = Self.sample(padded, Double(ox + c) + Double(clamped.x),
                                                   Double(oy + r) + Double(clamped.y))
                                let weight = 1 / max(1, abs(v - Double(i0.pixels[i])))
                                XCTAssertEqual(Double(sw[i]), weight, accuracy: 1e-4)
                                XCTAssertEqual(Double(su[i]), weight * Double(u.x), accuracy: 1e-4)
                            }
                        }
                    }
                }
            }}}}
        }
    }

    func testPolynomialExpansionMatchesLeastSquares() {
        let w = 23, h = 17, radius = 3, sigma = 1.1
        let image = Self.randomImage(w, h, seed: 3)
        let expansion = PolynomialExpansion(radius: radius, sigma: sigma)
        let fast = expansion.expand(image, threads: 2)
        for (x, y) in [(11, 8), (0, 0), (22, 16), (3, 14)] {
            // Weighted normal equations at (x, y), replicated border.
            var ata = [Double](repeating: 0, count: 36), atb = [Double](repeating: 0, count: 6)
            for dy in -radius...radius {
                for dx in -radius...radius {
                    let a = exp(-Double(dx * dx + dy * dy) / (2 * sigma * sigma))
                    let f = Double(image[min(max(x + dx, 0), w - 1), min(max(y + dy, 0), h - 1)])
                    let b = [1, Double(dx), Double(dy), Double(dx * dx), Double(dy * dy), Double(dx * dy)]
                    for r in 0..<6 {
                        atb[r] += a * b[r] * f
                        for c in 0..<6 { ata[r * 6 + c] += a * b[r] * b[c] }
                    }
                }
            }
            let inverse = PolynomialExpansion.invert6(ata)
            let coefficients = (0..<6).map { r in (0..<6).reduce(0.0) { $0 + inverse[r * 6 + $1] * atb[$1] } }
            let got = fast.at(y * w + x)
            let values = [got.0, got.1, got.2, got.3, got.4, got.5]
            for k in 0..<6 {
                XCTAssertEqual(Double(values[k]), coefficients[k], accuracy: 1e-3 * max(1, abs(coefficients[k])),
                               "coefficient \(k) at (\(x), \(y))")
            }
        }
    }

    func testBoxFilterMatchesPlainMean() {
        let w = 19, h = 13, r = 3
        let image = Self.randomImage(w, h, seed: 4)
        let src = ScratchPlane(copying: image.pixels), dst = ScratchPlane(count: w * h)
        defer { src.free(); dst.free() }
        BoxFilter.apply(src.pointer, to: dst.pointer, width: w, height: h, channels: 1, radius: r, threads: 2)
        for y in 0..<h {
            for x in 0..<w {
                var sum: Float = 0
                for dy in -r...r {
                    for dx in -r...r { sum += image[min(max(x + dx, 0), w - 1), min(max(y + dy, 0), h - 1)] }
                }
                XCTAssertEqual(dst.pointer[y * w + x], sum / Float((2 * r + 1) * (2 * r + 1)), accuracy: 1e-2)
            }
        }
    }

    func testPyramidHalvingAndFlowResize() {
        let image = Self.randomImage(9, 6, seed: 5)
        let half = Pyramid.halve(image)
        XCTAssertEqual(half.width, 4)
        XCTAssertEqual(half.height, 3)
        // Binomial [1 3 3 1]/8 centred between 2x and 2x+1, replicated border.
        for y in 0..<3 {
            for x in 0..<4 {
                let k: [(Int, Float)] = [(-1, 0.125), (0, 0.375), (1, 0.375), (2, 0.125)]
                var sum: Float = 0
                for (dy, wy) in k {
                    for (dx, wx) in k {
                        sum += wx * wy * image[min(max(2 * x + dx, 0), 8), min(max(2 * y + dy, 0), 5)]
                    }
                }
                XCTAssertEqual(half[x, y], sum, accuracy: 1e-3)
            }
        }
        // A linear flow field stays linear (and is scaled) through a 2× resize with the pixel-centre convention.
        var coarse = PlanarFlow(width: 8, height: 6)
        for y in 0..<6 { for x in 0..<8 { coarse.u[y * 8 + x] = Float(x) * 0.5; coarse.v[y * 8 + x] = Float(y) } }
        let fine = coarse.resized(width: 16, height: 12, scale: 2, threads: 2)
        for y in 1..<11 {
            for x in 1..<15 {
                XCTAssertEqual(fine.u[y * 16 + x], 2 * 0.5 * ((Float(x) + 0.5) / 2 - 0.5), accuracy: 1e-5)
                XCTAssertEqual(fine.v[y * 16 + x], 2 * ((Float(y) + 0.5) / 2 - 0.5), accuracy: 1e-5)
            }
        }
    }
}

final class RefinementReferenceTests: XCTestCase {
    /// The branch-free, division-free SOR solver against the plain one on a real pair and a rough flow.
    func testFastSolverMatchesPlain() {
        let pair = SyntheticFlowPair(motion: .rotate, width: 97, height: 61)
        var rough = PlanarFlow(pair.truth)
        for i in 0..<rough.u.count { rough.u[i] = (rough.u[i] * 4).rounded() / 4; rough.v[i] *= 0.8 }
        var refinement = VariationalRefinement(alpha: 20, delta: 5, gamma: 10, fixedPointIterations: 3,
                                               sorIterations: 4, omega: 1.6)
        for threads in [1, 2] {
            refinement.threads = threads
            var fast = rough, plain = rough
            refinement.plainSOR = false
            refinement.refine(&fast, i0: pair.first, i1: pair.second)
            refinement.plainSOR = true
            refinement.refine(&plain, i0: pair.first, i1: pair.second)
            var worst: Float = 0
            for i in 0..<fast.u.count {
                worst = max(worst, abs(fast.u[i] - plain.u[i]), abs(fast.v[i] - plain.v[i]))
            }
            XCTAssertLessThan(worst, 1e-3, "threads \(threads)")
            // And it refines: closer to the truth than the rough start.
            XCTAssertLessThan(fast.interleaved().endpointError(to: pair.truth),
                              rough.interleaved().endpointError(to: pair.truth))
        }
    }
}
