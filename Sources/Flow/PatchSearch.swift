// One scale of DIS: inverse-compositional Gauss-Newton search for the translation of each patch on a regular,
// overlapping grid, with spatial propagation between neighbours, then densification (each pixel averages the
// flows of the patches covering it, weighted by how well each patch's flow explains that pixel).
import ParallelLoops

struct PatchSearch {
    let i0: Plane
    let i1: PaddedPlane
    let gx: Plane, gy: Plane
    let patchSize: Int
    let options: DISOptions
    let threads: Int
    /// Patch origins along x and y: every `stride` pixels, plus one flush with the far edge so every pixel is
    /// covered even when the size is not a multiple of the stride.
    let originsX: [Int], originsY: [Int]

    /// How far (pixels) the sampled patch may leave the frame; positions beyond are clamped.
    static let border = 16

    init(i0: Plane, i1: Plane, patchSize: Int, stride: Int, options: DISOptions, threads: Int) {
        self.i0 = i0
        self.i1 = PaddedPlane(i1, border: Self.border)
        (gx, gy) = Pyramid.sobel(i0)
        self.patchSize = patchSize
        self.options = options
        self.threads = threads
        originsX = Self.origins(length: i0.width, patch: patchSize, stride: max(1, stride))
        originsY = Self.origins(length: i0.height, patch: patchSize, stride: max(1, stride))
    }

    static func origins(length: Int, patch: Int, stride: Int) -> [Int] {
        var out = Array(Swift.stride(from: 0, through: length - patch, by: stride))
        if out.last != length - patch { out.append(length - patch) }
        return out
    }

    /// Per-patch constants of the inverse-compositional update: the inverse (regularised, mean-normalised)
    /// Hessian and the template gradient sums.
    struct PatchConstants {
        var h11: Float, h12: Float, h22: Float   // inverse Hessian
        var sumGx: Float, sumGy: Float
    }

    func run(initial: PlanarFlow) -> PlanarFlow {
        let nx = originsX.count, ny = originsY.count
        var sx = [Float](repeating: 0, count: nx * ny), sy = sx
        let half = patchSize / 2
        let w = i0.width, h = i0.height
        // Initial guess per patch: the coarser scale's dense flow at the patch centre.
        for py in 0..<ny {
            for px in 0..<nx {
                let cx = min(originsX[px] + half, w - 1), cy = min(originsY[py] + half, h - 1)
                sx[py * nx + px] = initial.u[cy * w + cx]
                sy[py * nx + px] = initial.v[cy * w + cx]
            }
        }
        // Horizontal stripes of patch rows are searched independently (propagation stays inside a stripe),
        // one per thread, as in OpenCV; with one thread the whole grid is one stripe.
        let stripes = max(1, min(threads, ny / 8))  // a stripe of fewer rows is not worth a dispatch
        sx.withUnsafeMutableBufferPointer { sxp in
            sy.withUnsafeMutableBufferPointer { syp in
                let sxp = sxp.baseAddress!, syp = syp.baseAddress!
                Parallel.forEachBand(ny, threads: stripes, minimumPerBand: 2) { rows in
                    searchStripe(rows: rows, sx: sxp, sy: syp)
                }
            }
        }
        return densify(sx: sx, sy: sy)
    }

    // MARK: Patch search

    private func searchStripe(rows: Range<Int>, sx: UnsafeMutablePointer<Float>, sy: UnsafeMutablePointer<Float>) {
        let nx = originsX.count
        let n = Float(patchSize * patchSize)
        let meanNorm = options.useMeanNormalization
        var constants = [PatchConstants]()
        constants.reserveCapacity(rows.count * nx)
        // Regularisation keeps textureless patches finite: tiny next to any real texture's Hessian.
        let lambda = 0.01 * n
        for py in rows {
            for px in 0..<nx {
                var sxx: Float = 0, sxy: Float = 0, syy: Float = 0, sgx: Float = 0, sgy: Float = 0
                let ox = originsX[px], oy = originsY[py]
                for r in 0..<patchSize {
                    let base = (oy + r) * i0.width + ox
                    for c in 0..<patchSize {
                        let a = gx.pixels[base + c], b = gy.pixels[base + c]
                        sxx += a * a; sxy += a * b; syy += b * b; sgx += a; sgy += b
                    }
                }
                if meanNorm {
                    sxx -= sgx * sgx / n; sxy -= sgx * sgy / n; syy -= sgy * sgy / n
                }
                // Levenberg-Marquardt style damping (10% of the trace) keeps steps along an edge, where the
                // Hessian is nearly singular, from sending the patch sliding; the fixed point is unchanged.
                let damping = lambda + 0.1 * (sxx + syy)
                sxx += damping; syy += damping
                let det = sxx * syy - sxy * sxy
                let inv = det > 0 ? 1 / det : 0
                constants.append(PatchConstants(h11: syy * inv, h12: -sxy * inv, h22: sxx * inv,
                                                sumGx: meanNorm ? sgx : 0, sumGy: meanNorm ? sgy : 0))
            }
        }
        let propagate = options.useSpatialPropagation
        let sweeps = propagate ? 2 : 1
        let itersPerSweep = max(1, options.gradientDescentIterations / sweeps)
        i0.pixels.withUnsafeBufferPointer { i0p in
            gx.pixels.withUnsafeBufferPointer { gxp in
                gy.pixels.withUnsafeBufferPointer { gyp in
                    i1.data.withUnsafeBufferPointer { i1p in
                        let kernel = PatchKernel(i0: i0p.baseAddress!, gx: gxp.baseAddress!, gy: gyp.baseAddress!,
                                                 i0Width: i0.width, i1: i1p.baseAddress!, i1Stride: i1.stride,
                                                 border: i1.border, width: i0.width, height: i0.height,
                                                 patch: patchSize, meanNormalization: meanNorm)
                        for sweep in 0..<sweeps {
                            let forward = sweep == 0
                            let rowOrder: [Int] = forward ? Array(rows) : rows.reversed()
                            for py in rowOrder {
                                for step in 0..<nx {
                                    let px = forward ? step : nx - 1 - step
                                    let k = py * nx + px, local = (py - rows.lowerBound) * nx + px
                                    let ox = originsX[px], oy = originsY[py]
                                    var u = SIMD2(sx[k], sy[k])
                                    var best = kernel.ssd(ox, oy, u)
                                    if propagate {
                                        // Neighbours already visited in this sweep: left/up going forward,
                                        // right/down going backward.
                                        let nxk = forward ? (px > 0 ? k - 1 : -1) : (px < nx - 1 ? k + 1 : -1)
                                        let nyk = forward ? (py > rows.lowerBound ? k - nx : -1)
                                                          : (py < rows.upperBound - 1 ? k + nx : -1)
                                        // (Two explicit tries, not a loop over an array: this runs for every patch.)
                                        @inline(__always) func consider(_ neighbour: Int) {
                                            guard neighbour >= 0 else { return }
                                            let candidate = SIMD2(sx[neighbour], sy[neighbour])
                                            if candidate == u { return }
                                            let e = kernel.ssd(ox, oy, candidate)
                                            if e < best { best = e; u = candidate }
                                        }
                                        consider(nxk)
                                        consider(nyk)
                                    }
                                    let c = constants[local]
                                    // Gauss-Newton from the chosen start, stopping as soon as the patch
                                    // distance grows (the step overshot or the patch is drifting along an
                                    // edge) and keeping the last point that improved it.
                                    let startU = u
                                    var previous = best
                                    var lastGood = u
                                    for _ in 0..<itersPerSweep {
                                        let (e, g) = kernel.residual(ox, oy, u, c)
                                        if e > previous {
                                            u = lastGood
                                            break
                                        }
                                        previous = e
                                        lastGood = u
                                        // Inverse compositional: the template moves by H⁻¹ Σ∇T·r, so the
                                        // patch's flow moves the opposite way.
                                        let step = SIMD2(c.h11 * g.x + c.h12 * g.y, c.h12 * g.x + c.h22 * g.y)
                                        u -= step
                                        if (step * step).sum() < 1e-6 { break }
                                    }
                                    // A patch that wandered further than its own size has locked onto
                                    // something else: keep where it started.
                                    let moved = u - startU
                                    var bestU = (moved * moved).sum() > Float(patchSize * patchSize) ? startU : u
                                    bestU = kernel.clampFlow(ox, oy, bestU)
                                    sx[k] = bestU.x
                                    sy[k] = bestU.y
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Densification

    /// Each pixel's flow is the average of the flows of the patches covering it, weighted by
    /// 1 / max(1, |I1(x + u_patch) − I0(x)|). Output rows run in parallel.
    private func densify(sx: [Float], sy: [Float]) -> PlanarFlow {
        let w = i0.width, h = i0.height, nx = originsX.count, ny = originsY.count
        var out = PlanarFlow(width: w, height: h)
        var weight = [Float](repeating: 0, count: w * h)
        let patch = patchSize
        sx.withUnsafeBufferPointer { sxp in
        sy.withUnsafeBufferPointer { syp in
        i0.pixels.withUnsafeBufferPointer { i0p in
        i1.data.withUnsafeBufferPointer { i1p in
        out.u.withUnsafeMutableBufferPointer { up in
        out.v.withUnsafeMutableBufferPointer { vp in
        weight.withUnsafeMutableBufferPointer { wp in
            let up = up.baseAddress!, vp = vp.baseAddress!, wp = wp.baseAddress!
            let i0b = i0p.baseAddress!, i1b = i1p.baseAddress!
            let kernel = PatchKernel(i0: i0b, gx: i0b, gy: i0b, i0Width: w, i1: i1b, i1Stride: i1.stride,
                                     border: i1.border, width: w, height: h, patch: patch, meanNormalization: false)
            Parallel.forEachBand(h, threads: threads, minimumPerBand: patch) { band in
                for py in 0..<ny {
                    let oy = originsY[py]
                    let r0 = max(oy, band.lowerBound), r1 = min(oy + patch, band.upperBound)
                    if r0 >= r1 { continue }
                    for px in 0..<nx {
                        let k = py * nx + px
                        kernel.accumulate(ox: originsX[px], oy: oy, rows: r0..<r1, u: SIMD2(sxp[k], syp[k]),
                                          sumU: up, sumV: vp, sumW: wp)
                    }
                }
                for y in band {
                    for x in 0..<w {
                        let i = y * w + x
                        let s = wp[i]
                        up[i] /= s
                        vp[i] /= s
                    }
                }
            }
        }}}}}}}
        return out
    }
}

/// The inner loops of the patch search over raw pointers: bilinear sampling of a translated patch (the four
/// weights are the same for every pixel of the patch) and the sums Gauss-Newton needs, four columns at a time.
struct PatchKernel {
    let i0: UnsafePointer<Float>, gx: UnsafePointer<Float>, gy: UnsafePointer<Float>
    let i0Width: Int
    let i1: UnsafePointer<Float>, i1Stride: Int, border: Int
    let width: Int, height: Int, patch: Int
    let meanNormalization: Bool

    /// Range of a patch's top-left corner in frame 2: at most half the patch may leave the frame. Further out it
    /// would see only replicated border, where nothing constrains it and patches drift away.
    var limits: (lo: Float, hiX: Float, hiY: Float) {
        let half = Float(min(patch / 2, border))
        return (-half, Float(width - patch - 1) + half, Float(height - patch - 1) + half)
    }

    /// Clamps a patch's flow so its target obeys `limits`.
    @inline(__always)
    func clampFlow(_ ox: Int, _ oy: Int, _ u: SIMD2<Float>) -> SIMD2<Float> {
        let (lo, hiX, hiY) = limits
        let x = min(max(Float(ox) + u.x, lo), hiX), y = min(max(Float(oy) + u.y, lo), hiY)
        return SIMD2(x.isNaN ? Float(ox) : x, y.isNaN ? Float(oy) : y) - SIMD2(Float(ox), Float(oy))
    }

    /// Where the patch at (ox, oy) moved by u samples frame 2: the top-left padded-buffer index and the
    /// bilinear fractions. The position is clamped so every read stays inside the padded buffer.
    @inline(__always)
    func sampling(_ ox: Int, _ oy: Int, _ u: SIMD2<Float>) -> (base: Int, fx: Float, fy: Float) {
        let (lo, hiX, hiY) = limits
        var x = Float(ox) + u.x, y = Float(oy) + u.y
        x = x.isNaN ? 0 : min(max(x, lo), hiX)
        y = y.isNaN ? 0 : min(max(y, lo), hiY)
        let xi = floorInt(x), yi = floorInt(y)
        let base = (yi + border) * i1Stride + xi + border
        return (base, x - Float(xi), y - Float(yi))
    }

    /// Sum of squared (mean-normalised) differences between the template and frame 2 at u.
    @inline(__always)
    func ssd(_ ox: Int, _ oy: Int, _ u: SIMD2<Float>) -> Float {
        let (base, fx, fy) = sampling(ox, oy, u)
        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
        var sum = SIMD4<Float>(), sq = SIMD4<Float>()
        var sumS: Float = 0, sqS: Float = 0
        let vectorCols = patch & ~3
        for r in 0..<patch {
            let t = i0 + (oy + r) * i0Width + ox
            let a = i1 + base + r * i1Stride, b = a + i1Stride
            var c = 0
            while c < vectorCols {
                let v = w00 * load4(a + c) + w01 * load4(a + c + 1) + w10 * load4(b + c) + w11 * load4(b + c + 1)
                let d = v - load4(t + c)
                sum += d
                sq += d * d
                c += 4
            }
            while c < patch {
                let v = w00 * a[c] + w01 * a[c + 1] + w10 * b[c] + w11 * b[c + 1]
                let d = v - t[c]
                sumS += d
                sqS += d * d
                c += 1
            }
        }
        let s = sum.sum() + sumS, q = sq.sum() + sqS
        return meanNormalization ? q - s * s / Float(patch * patch) : q
    }

    /// SSD at u and the Gauss-Newton right-hand side Σ ∇T · r (with the residual mean removed).
    @inline(__always)
    func residual(_ ox: Int, _ oy: Int, _ u: SIMD2<Float>,
                  _ c0: PatchSearch.PatchConstants) -> (Float, SIMD2<Float>) {
        let (base, fx, fy) = sampling(ox, oy, u)
        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
        var sum = SIMD4<Float>(), sq = SIMD4<Float>(), dgx = SIMD4<Float>(), dgy = SIMD4<Float>()
        var sumS: Float = 0, sqS: Float = 0, dgxS: Float = 0, dgyS: Float = 0
        let vectorCols = patch & ~3
        for r in 0..<patch {
            let row = (oy + r) * i0Width + ox
            let t = i0 + row, tx = gx + row, ty = gy + row
            let a = i1 + base + r * i1Stride, b = a + i1Stride
            var c = 0
            while c < vectorCols {
                let v = w00 * load4(a + c) + w01 * load4(a + c + 1) + w10 * load4(b + c) + w11 * load4(b + c + 1)
                let d = v - load4(t + c)
                sum += d
                sq += d * d
                dgx += d * load4(tx + c)
                dgy += d * load4(ty + c)
                c += 4
            }
            while c < patch {
                let v = w00 * a[c] + w01 * a[c + 1] + w10 * b[c] + w11 * b[c + 1]
                let d = v - t[c]
                sumS += d
                sqS += d * d
                dgxS += d * tx[c]
                dgyS += d * ty[c]
                c += 1
            }
        }
        let s = sum.sum() + sumS, q = sq.sum() + sqS
        let n = Float(patch * patch)
        let mean = meanNormalization ? s / n : 0
        let g = SIMD2(dgx.sum() + dgxS - mean * c0.sumGx, dgy.sum() + dgyS - mean * c0.sumGy)
        return (meanNormalization ? q - s * mean : q, g)
    }

    /// Adds this patch's flow, weighted per pixel by 1 / max(1, |I1(x + u) − I0(x)|), to the accumulators for
    /// the patch rows in `rows` (absolute image rows).
    @inline(__always)
    func accumulate(ox: Int, oy: Int, rows: Range<Int>, u: SIMD2<Float>,
                    sumU: UnsafeMutablePointer<Float>, sumV: UnsafeMutablePointer<Float>,
                    sumW: UnsafeMutablePointer<Float>) {
        let (base, fx, fy) = sampling(ox, oy, u)
        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
        let one = SIMD4<Float>(repeating: 1)
        let vectorCols = patch & ~3
        for y in rows {
            let r = y - oy
            let t = i0 + y * i0Width + ox
            let a = i1 + base + r * i1Stride, b = a + i1Stride
            let o = y * width + ox
            var c = 0
            while c < vectorCols {
                let v = w00 * load4(a + c) + w01 * load4(a + c + 1) + w10 * load4(b + c) + w11 * load4(b + c + 1)
                let d = v - load4(t + c)
                // 1 / max(1, |d|), spelled with masks: the generic pointwiseMax is not inlined.
                let magnitude = d.replacing(with: -d, where: d .< 0)
                let wgt = one / magnitude.replacing(with: one, where: magnitude .< one)
                store4(sumU + o + c, load4(sumU + o + c) + wgt * u.x)
                store4(sumV + o + c, load4(sumV + o + c) + wgt * u.y)
                store4(sumW + o + c, load4(sumW + o + c) + wgt)
                c += 4
            }
            while c < patch {
                let v = w00 * a[c] + w01 * a[c + 1] + w10 * b[c] + w11 * b[c + 1]
                let wgt = 1 / max(1, abs(v - t[c]))
                sumU[o + c] += wgt * u.x
                sumV[o + c] += wgt * u.y
                sumW[o + c] += wgt
                c += 1
            }
        }
    }
}

@inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always) func load4(_ p: UnsafeMutablePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always) func store4(_ p: UnsafeMutablePointer<Float>, _ v: SIMD4<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}


/// floor(x) as an Int without a libm call (x within Int range).
@inline(__always) func floorInt(_ x: Float) -> Int {
    let t = Int(x)
    return Float(t) > x ? t - 1 : t
}
