// Farnebäck's two-frame motion estimation (SCIA 2003): every neighbourhood is approximated by a quadratic
// polynomial (Gaussian-weighted least squares, "polynomial expansion"); a displacement turns the polynomial
// of frame 1 into that of frame 2, so averaged over a window it can be solved for, coarse to fine.
import Foundation  // exp
import ParallelLoops

/// Parameters of the Farneback method (defaults are the usual OpenCV call: levels 3, window 15,
/// 3 iterations, polynomial radius 5, sigma 1.2; the pyramid halves each level).
public struct FarnebackOptions: Sendable, Equatable {
    /// Pyramid levels above full resolution.
    public var levels: Int = 3
    /// Side of the box window over which the displacement equations are averaged.
    public var windowSize: Int = 15
    /// Solve/re-warp iterations per level.
    public var iterations: Int = 3
    /// Radius of the polynomial-expansion neighbourhood (OpenCV's poly_n).
    public var polynomialRadius: Int = 5
    /// Standard deviation of the Gaussian applicability (OpenCV's poly_sigma).
    public var polynomialSigma: Double = 1.2

    public init() {}
}

/// Farneback dense optical flow. A value type: one instance may be used from several tasks.
public struct FarnebackOpticalFlow: Sendable {
    public var options: FarnebackOptions
    public var threads: Int

    public init(options: FarnebackOptions = FarnebackOptions(), threads: Int = 1) {
        self.options = options
        self.threads = max(1, threads)
    }

    /// Forward flow from `first` to `second`: first(q) ≈ second(q + f(q)). Levels stop where the shorter
    /// side would drop below 8 pixels. Images with a side shorter than the polynomial neighbourhood
    /// (2·radius + 1 pixels, 11 by default) cannot support the quadratic fit: they get zero flow. Constant
    /// images give zero flow (no texture, no evidence of motion).
    public func flow(from first: GrayImage, to second: GrayImage,
                     initial: FlowField? = nil) throws(FlowError) -> FlowField {
        guard first.width == second.width, first.height == second.height else {
            throw .sizeMismatch(first: (first.width, first.height), second: (second.width, second.height))
        }
        if let initial, initial.width != first.width || initial.height != first.height {
            throw .initialFlowSize(expected: (first.width, first.height), got: (initial.width, initial.height))
        }
        let width = first.width, height = first.height
        if min(width, height) < 2 * options.polynomialRadius + 1 { return FlowField(width: width, height: height) }
        var levels = 0
        while levels < options.levels && min(width, height) >> (levels + 1) >= 8 { levels += 1 }
        let (pyramid0, pyramid1) = Pyramid.buildPair(first, second, levels: levels, threads: threads)
        let expansion = PolynomialExpansion(radius: options.polynomialRadius, sigma: options.polynomialSigma)
        let top = pyramid0[levels]
        var flow = initial.map {
            PlanarFlow($0).resized(width: top.width, height: top.height, scale: Float(top.width) / Float(width),
                                   threads: threads)
        } ?? PlanarFlow(width: top.width, height: top.height)
        for level in stride(from: levels, through: 0, by: -1) {
            let i0 = pyramid0[level], i1 = pyramid1[level]
            if flow.width != i0.width || flow.height != i0.height {
                flow = flow.resized(width: i0.width, height: i0.height, scale: 2, threads: threads)
            }
            let r0 = expansion.expand(i0, threads: threads), r1 = expansion.expand(i1, threads: threads)
            for _ in 0..<max(1, options.iterations) {
                flow = solve(r0: r0, r1: r1, flow: flow)
            }
        }
        return flow.interleaved()
    }

    /// One iteration: build the per-pixel normal equations with frame 2's polynomial taken where the current
    /// flow points, average them over the window, solve each pixel's 2×2 system.
    private func solve(r0: PolynomialExpansion.Coefficients, r1: PolynomialExpansion.Coefficients,
                       flow: PlanarFlow) -> PlanarFlow {
        let w = flow.width, h = flow.height, n = w * h
        // Five channels: G = AᵀA (g11, g12, g22) and h = AᵀΔb (h1, h2).
        let terms = ScratchPlane(count: 5 * n)
        defer { terms.free() }
        let t = terms.pointer
        flow.u.withUnsafeBufferPointer { u in flow.v.withUnsafeBufferPointer { v in
        r0.planes.withUnsafeBufferPointer { q in r1.planes.withUnsafeBufferPointer { p in
            // Planes 1...5 of both expansions (b1, b2, A11, A22, 2·A12); the constant term is not needed.
            let q1 = q.baseAddress! + n, q2 = q1 + n, q3 = q2 + n, q4 = q3 + n, q5 = q4 + n
            let p1 = p.baseAddress! + n, p2 = p1 + n, p3 = p2 + n, p4 = p3 + n, p5 = p4 + n
            let maxX = Float(w - 1), maxY = Float(h - 1)
            Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
                for y in rows {
                    for x in 0..<w {
                        let i = y * w + x
                        let dx = u[i], dy = v[i]
                        // Frame 2's polynomial where the flow points (bilinear, clamped to the image).
                        let cx = min(max(Float(x) + dx, 0), maxX), cy = min(max(Float(y) + dy, 0), maxY)
                        let x0 = Int(cx), y0 = Int(cy)
                        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        let fx = cx - Float(x0), fy = cy - Float(y0)
                        let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
                        let i00 = y0 * w + x0, i01 = y0 * w + x1, i10 = y1 * w + x0, i11 = y1 * w + x1
                        @inline(__always) func at(_ plane: UnsafePointer<Float>) -> Float {
                            w00 * plane[i00] + w01 * plane[i01] + w10 * plane[i10] + w11 * plane[i11]
                        }
                        // A = (A0 + A1)/2 with A = [[c3, c5/2], [c5/2, c4]]; b = (c1, c2).
                        let a11 = 0.5 * (q3[i] + at(p3)), a22 = 0.5 * (q4[i] + at(p4)), a12 = 0.25 * (q5[i] + at(p5))
                        let db1 = -0.5 * (at(p1) - q1[i]) + a11 * dx + a12 * dy
                        let db2 = -0.5 * (at(p2) - q2[i]) + a12 * dx + a22 * dy
                        t[i] = a11 * a11 + a12 * a12
                        t[n + i] = a12 * (a11 + a22)
                        t[2 * n + i] = a12 * a12 + a22 * a22
                        t[3 * n + i] = a11 * db1 + a12 * db2
                        t[4 * n + i] = a12 * db1 + a22 * db2
                    }
                }
            }
        }}}}
        let blurred = ScratchPlane(count: 5 * n)
        defer { blurred.free() }
        BoxFilter.apply(t, to: blurred.pointer, width: w, height: h, channels: 5,
                        radius: options.windowSize / 2, threads: threads)
        var out = PlanarFlow(width: w, height: h)
        let b = blurred.pointer
        out.u.withUnsafeMutableBufferPointer { ou in out.v.withUnsafeMutableBufferPointer { ov in
            let ou = ou.baseAddress!, ov = ov.baseAddress!
            Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
                for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                    let g11 = b[i], g12 = b[n + i], g22 = b[2 * n + i], h1 = b[3 * n + i], h2 = b[4 * n + i]
                    // The small constant keeps textureless windows (G ≈ 0) at zero motion instead of NaN.
                    let inv = 1 / (g11 * g22 - g12 * g12 + 1e-3)
                    ou[i] = (g22 * h1 - g12 * h2) * inv
                    ov[i] = (g11 * h2 - g12 * h1) * inv
                }
            }
        }}
        return out
    }
}

/// Polynomial expansion: per pixel, the Gaussian-weighted least-squares fit
/// f(x, y) ≈ c0 + c1·x + c2·y + c3·x² + c4·y² + c5·xy over the (2r+1)² neighbourhood (replicated border),
/// computed with separable correlations and the inverse of the 6×6 Gram matrix.
struct PolynomialExpansion {
    let radius: Int
    let g: [Float], xg: [Float], xxg: [Float]
    /// Rows of G⁻¹ (6×6) mapping the moments to coefficients.
    let inverseGram: [Float]

    struct Coefficients {
        let width: Int, height: Int
        /// Six planes of `width * height`.
        let planes: [Float]

        @inline(__always) func at(_ i: Int) -> (Float, Float, Float, Float, Float, Float) {
            let n = width * height
            return planes.withUnsafeBufferPointer { p in
                (p[i], p[n + i], p[2 * n + i], p[3 * n + i], p[4 * n + i], p[5 * n + i])
            }
        }

        /// Bilinear sample at a real position, clamped to the image.
        @inline(__always) func sample(_ x: Float, _ y: Float) -> (Float, Float, Float, Float, Float, Float) {
            let cx = min(max(x, 0), Float(width - 1)), cy = min(max(y, 0), Float(height - 1))
            let x0 = Int(cx), y0 = Int(cy)
            let x1 = min(x0 + 1, width - 1), y1 = min(y0 + 1, height - 1)
            let fx = cx - Float(x0), fy = cy - Float(y0)
            let w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy
            let i00 = y0 * width + x0, i01 = y0 * width + x1, i10 = y1 * width + x0, i11 = y1 * width + x1
            let n = width * height
            return planes.withUnsafeBufferPointer { p in
                func s(_ k: Int) -> Float {
                    let o = k * n
                    return w00 * p[o + i00] + w01 * p[o + i01] + w10 * p[o + i10] + w11 * p[o + i11]
                }
                return (s(0), s(1), s(2), s(3), s(4), s(5))
            }
        }
    }

    init(radius: Int, sigma: Double) {
        self.radius = radius
        var g = [Double](), xg = [Double](), xxg = [Double]()
        for k in -radius...radius {
            let a = exp(-Double(k * k) / (2 * sigma * sigma))
            g.append(a)
            xg.append(Double(k) * a)
            xxg.append(Double(k * k) * a)
        }
        let s = g.reduce(0, +)
        self.g = g.map { Float($0 / s) }
        self.xg = xg.map { Float($0 / s) }
        self.xxg = xxg.map { Float($0 / s) }
        // Gram matrix of the basis {1, x, y, x², y², xy} under the (normalised) applicability.
        var gram = [Double](repeating: 0, count: 36)
        for dy in -radius...radius {
            for dx in -radius...radius {
                let a = g[dx + radius] * g[dy + radius] / (s * s)
                let x = Double(dx), y = Double(dy)
                let basis = [1, x, y, x * x, y * y, x * y]
                for r in 0..<6 { for c in 0..<6 { gram[r * 6 + c] += a * basis[r] * basis[c] } }
            }
        }
        inverseGram = Self.invert6(gram).map(Float.init)
    }

    /// Gauss-Jordan inverse with partial pivoting (the Gram matrix is symmetric positive definite).
    static func invert6(_ m: [Double]) -> [Double] {
        var a = m, inv = [Double](repeating: 0, count: 36)
        for i in 0..<6 { inv[i * 6 + i] = 1 }
        for col in 0..<6 {
            let pivot = (col..<6).max { abs(a[$0 * 6 + col]) < abs(a[$1 * 6 + col]) }!
            if pivot != col {
                for k in 0..<6 {
                    a.swapAt(col * 6 + k, pivot * 6 + k)
                    inv.swapAt(col * 6 + k, pivot * 6 + k)
                }
            }
            let d = a[col * 6 + col]
            for k in 0..<6 { a[col * 6 + k] /= d; inv[col * 6 + k] /= d }
            for r in 0..<6 where r != col {
                let f = a[r * 6 + col]
                if f == 0 { continue }
                for k in 0..<6 { a[r * 6 + k] -= f * a[col * 6 + k]; inv[r * 6 + k] -= f * inv[col * 6 + k] }
            }
        }
        return inv
    }

    func expand(_ image: Plane, threads: Int) -> Coefficients {
        let w = image.width, h = image.height, n = w * h, r = radius
        // Vertical pass: per pixel, Σ g·f, Σ y·g·f, Σ y²·g·f over the column neighbourhood.
        let vertical = ScratchPlane(count: 3 * n)
        defer { vertical.free() }
        var planes = [Float](repeating: 0, count: 6 * n)
        let vp = vertical.pointer
        image.pixels.withUnsafeBufferPointer { src in
            let src = src.baseAddress!
            Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
                for y in rows {
                    for k in -r...r {
                        let sy = min(max(y + k, 0), h - 1)
                        let a = g[k + r], b = xg[k + r], c = xxg[k + r]
                        let row = src + sy * w
                        let o0 = vp + y * w, o1 = vp + n + y * w, o2 = vp + 2 * n + y * w
                        for x in 0..<w {
                            let f = row[x]
                            o0[x] += a * f
                            o1[x] += b * f
                            o2[x] += c * f
                        }
                    }
                }
            }
        }
        let gi = inverseGram
        planes.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
                // Per row: the three vertical sums with r replicated pixels on each side, then the six moments
                // as tap-by-tap passes over the whole row (independent across x, so they vectorise).
                let pw = w + 2 * r
                // 8 extra zeros at the end: full-width vector loads of the last chunk stay in bounds.
                let padded = ScratchPlane(count: 3 * pw + 8)
                defer { padded.free() }
                let p0 = padded.pointer, p1 = p0 + pw, p2 = p1 + pw
                for y in rows {
                    let v0 = vp + y * w, v1 = vp + n + y * w, v2 = vp + 2 * n + y * w
                    for x in 0..<pw {
                        let sx = min(max(x - r, 0), w - 1)
                        p0[x] = v0[sx]; p1[x] = v1[sx]; p2[x] = v2[sx]
                    }
                    // Eight pixels at a time: six moment accumulators in registers, then G⁻¹ · moments.
                    typealias V = SIMD8<Float>
                    @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> V {
                        UnsafeRawPointer(p).loadUnaligned(as: V.self)
                    }
                    let base = y * w
                    var x = 0
                    while x < w {
                        let lanes = min(8, w - x)
                        var m0 = V(), mx = V(), my = V(), mxx = V(), myy = V(), mxy = V()
                        if lanes == 8 {
                            for k in 0...(2 * r) {
                                let a = g[k], b = xg[k], c = xxg[k]
                                let f0 = load(p0 + x + k), f1 = load(p1 + x + k), f2 = load(p2 + x + k)
                                m0 += a * f0; mx += b * f0; mxx += c * f0
                                my += a * f1; mxy += b * f1; myy += a * f2
                            }
                        } else {
                            for lane in 0..<lanes {
                                for k in 0...(2 * r) {
                                    let a = g[k], b = xg[k], c = xxg[k]
                                    let f0 = p0[x + lane + k], f1 = p1[x + lane + k], f2 = p2[x + lane + k]
                                    m0[lane] += a * f0; mx[lane] += b * f0; mxx[lane] += c * f0
                                    my[lane] += a * f1; mxy[lane] += b * f1; myy[lane] += a * f2
                                }
                            }
                        }
                        for row in 0..<6 {
                            let q = row * 6
                            var value: V = gi[q] * m0
                            value += gi[q + 1] * mx
                            value += gi[q + 2] * my
                            value += gi[q + 3] * mxx
                            value += gi[q + 4] * myy
                            value += gi[q + 5] * mxy
                            let o = out + row * n + base + x
                            for lane in 0..<lanes { o[lane] = value[lane] }
                        }
                        x += 8
                    }
                }
            }
        }
        return Coefficients(width: w, height: h, planes: planes)
    }
}

/// Box (mean) filter over `channels` planes of `width * height`, replicated border; rows in parallel.
enum BoxFilter {
    static func apply(_ src: UnsafeMutablePointer<Float>, to dst: UnsafeMutablePointer<Float>,
                      width w: Int, height h: Int, channels: Int, radius r: Int, threads: Int) {
        let n = w * h
        let horizontal = ScratchPlane(count: channels * n)
        defer { horizontal.free() }
        let hp = horizontal.pointer
        let scale = 1 / Float((2 * r + 1) * (2 * r + 1))
        Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
            for c in 0..<channels {
                for y in rows {
                    let s = src + c * n + y * w, o = hp + c * n + y * w
                    // Running sum along the row.
                    var acc: Float = 0
                    for k in -r...r { acc += s[min(max(k, 0), w - 1)] }
                    for x in 0..<w {
                        o[x] = acc
                        acc += s[min(x + r + 1, w - 1)] - s[max(x - r, 0)]
                    }
                }
            }
        }
        Parallel.forEachBand(h, threads: threads, minimumPerBand: 8) { rows in
            // Running column sums down the band: add the row entering the window, drop the one leaving.
            let acc = ScratchPlane(count: w)
            defer { acc.free() }
            let a = acc.pointer
            for c in 0..<channels {
                let plane = hp + c * n
                for x in 0..<w { a[x] = 0 }
                for k in -r...r {
                    let s = plane + min(max(rows.lowerBound + k, 0), h - 1) * w
                    for x in 0..<w { a[x] += s[x] }
                }
                for y in rows {
                    let o = dst + c * n + y * w
                    for x in 0..<w { o[x] = a[x] * scale }
                    let enter = plane + min(y + r + 1, h - 1) * w, leave = plane + max(y - r, 0) * w
                    for x in 0..<w { a[x] += enter[x] - leave[x] }
                }
            }
        }
    }
}


