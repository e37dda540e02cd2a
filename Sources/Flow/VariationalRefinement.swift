// Variational refinement of a dense flow (the last step of DIS at every scale, after Brox et al. 2004 /
// DeepFlow): minimises a robust (Charbonnier) energy of brightness constancy, gradient constancy and flow
// smoothness around the current flow, linearised, with fixed-point iterations on the robust weights and
// red-black SOR for the linear system (RedBlackSystem.swift). Rows of one colour are independent, so they run
// in parallel.
import ParallelLoops

struct VariationalRefinement {
    var alpha: Float, delta: Float, gamma: Float
    var fixedPointIterations: Int, sorIterations: Int, omega: Float
    var threads = 1
    /// Fewest rows per thread: each half sweep is one dispatch, and on coarse levels (a few thousand pixels)
    /// the dispatch costs more than the sweep.
    static let rowsPerBand = 48
    /// Charbonnier ε² and the gradient-normalisation ζ² (intensities in 0...255).
    var epsilonSquared: Float = 0.001 * 0.001
    var zetaSquared: Float = 0.1 * 0.1

    init(alpha: Float, delta: Float, gamma: Float, fixedPointIterations: Int, sorIterations: Int, omega: Float) {
        self.alpha = alpha
        self.delta = delta
        self.gamma = gamma
        self.fixedPointIterations = fixedPointIterations
        self.sorIterations = sorIterations
        self.omega = omega
    }

    /// Linearised data terms at every pixel (constant through the fixed-point iterations).
    private struct DataTerms {
        var ix, iy, iz, ixx, ixy, iyy, ixz, iyz: ScratchPlane
        /// 0 where the flow points outside frame 2: the linearisation says nothing there.
        var valid: ScratchPlane
        /// Normalisations β (brightness), βx, βy (gradient components), and the normalised products the
        /// system needs, precomputed once for the fast assembly: brightness p11 = βIx², p12 = βIxIy,
        /// p22 = βIy², q1 = βIxIz, q2 = βIyIz; gradient g11, g12, g22, h1, h2 likewise with βx, βy.
        var beta, betaX, betaY, p11, p12, p22, q1, q2, g11, g12, g22, h1, h2: ScratchPlane

        func free() {
            for p in [ix, iy, iz, ixx, ixy, iyy, ixz, iyz, valid, beta, betaX, betaY, p11, p12, p22, q1, q2,
                      g11, g12, g22, h1, h2] { p.free() }
        }
    }

    /// The per-pixel linear system of one fixed-point iteration: [a11 a12; a12 a22]·(du, dv) + (b1, b2) from
    /// the data term; smoothness couples each pixel to its 4 neighbours with weights sRight (edge to x+1) and
    /// sDown (edge to y+1).
    private struct System {
        var a11, a12, a22, b1, b2, sRight, sDown: ScratchPlane
        init(count n: Int) {
            a11 = ScratchPlane(count: n); a12 = ScratchPlane(count: n); a22 = ScratchPlane(count: n)
            b1 = ScratchPlane(count: n); b2 = ScratchPlane(count: n)
            sRight = ScratchPlane(count: n); sDown = ScratchPlane(count: n)
        }
        func free() { for p in [a11, a12, a22, b1, b2, sRight, sDown] { p.free() } }
    }

    func refine(_ flow: inout PlanarFlow, i0: Plane, i1: Plane) {
        if plainSOR { refinePlain(&flow, i0: i0, i1: i1) } else { refineFast(&flow, i0: i0, i1: i1) }
    }

    /// Use the straightforward solver (`refinePlain`) instead of the fast one; tests compare the two.
    var plainSOR = false

    /// The fast solver. Per fixed-point iteration the flow u is constant, so everything but the neighbours'
    /// increments is folded into per-pixel constants first (right-hand side, 1/diagonal); planes carry a
    /// zero guard row above and below, and border edges have zero weight, so the SOR sweep has no branches and
    /// no divisions.
    private func refineFast(_ flow: inout PlanarFlow, i0: Plane, i1: Plane) {
        let w = i0.width, h = i0.height, n = w * h
        guard n > 1, fixedPointIterations > 0 else { return }
        let t = dataTerms(flow, i0: i0, i1: i1)
        let o = w + 1, padded = n + 2 * w + 2
        let u = ScratchPlane(count: padded), v = ScratchPlane(count: padded)
        let du = ScratchPlane(count: padded), dv = ScratchPlane(count: padded)
        let sRight = ScratchPlane(count: padded), sDown = ScratchPlane(count: padded)
        let cU = ScratchPlane(count: padded), cV = ScratchPlane(count: padded), a12 = ScratchPlane(count: padded)
        let invU = ScratchPlane(count: padded), invV = ScratchPlane(count: padded)
        let system = System(count: n)
        let split = RedBlackSystem(width: w, height: h)
        defer {
            t.free(); system.free(); split.free()
            for p in [u, v, du, dv, sRight, sDown, cU, cV, a12, invU, invV] { p.free() }
        }
        flow.u.withUnsafeBufferPointer { u.pointer.advanced(by: o).update(from: $0.baseAddress!, count: n) }
        flow.v.withUnsafeBufferPointer { v.pointer.advanced(by: o).update(from: $0.baseAddress!, count: n) }
        let up = u.pointer + o, vp = v.pointer + o, dup = du.pointer + o, dvp = dv.pointer + o
        let sr = sRight.pointer + o, sd = sDown.pointer + o, cu = cU.pointer + o, cv = cV.pointer + o
        let c12 = a12.pointer + o, iu = invU.pointer + o, iv = invV.pointer + o
        let omega = omega
        for _ in 0..<fixedPointIterations {
            Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                assembleFast(rows: rows, width: w, height: h, t: t, u: up, v: vp, du: dup, dv: dvp, system: system)
                let r0 = system.sRight.pointer, d0 = system.sDown.pointer
                for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                    sr[i] = r0[i]
                    sd[i] = d0[i]
                }
            }
            // Constants need the neighbours' weights (rows above): a second pass after all rows are assembled.
            Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                let s11 = system.a11.pointer, s12 = system.a12.pointer, s22 = system.a22.pointer
                let b1 = system.b1.pointer, b2 = system.b2.pointer
                for i in (rows.lowerBound * w)..<(rows.upperBound * w) {
                    let wr = sr[i], wl = sr[i - 1], wd = sd[i], wu = sd[i - w]
                    let sum = wr + wl + wd + wu
                    cu[i] = wr * up[i + 1] + wl * up[i - 1] + wd * up[i + w] + wu * up[i - w] - sum * up[i] - b1[i]
                    cv[i] = wr * vp[i + 1] + wl * vp[i - 1] + wd * vp[i + w] + wu * vp[i - w] - sum * vp[i] - b2[i]
                    c12[i] = s12[i]
                    let denU = s11[i] + sum, denV = s22[i] + sum
                    iu[i] = denU > 0 ? 1 / denU : 0
                    iv[i] = denV > 0 ? 1 / denV : 0
                }
            }
            // Red-black split: each colour's pixels are packed contiguously, so every SIMD lane does useful work.
            Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                split.scatter(rows: rows, sr: sr, sd: sd, cu: cu, cv: cv, c12: c12, iu: iu, iv: iv, du: dup, dv: dvp)
            }
            for _ in 0..<sorIterations {
                for colour in 0..<2 {
                    Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                        split.sweep(rows: rows, colour: colour, omega: omega)
                    }
                }
            }
            Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                split.gather(rows: rows, du: dup, dv: dvp)
            }
        }
        for i in 0..<n {
            flow.u[i] += dup[i]
            flow.v[i] += dvp[i]
        }
    }

    /// The plain solver: the same equations, solved pixel by pixel with explicit border checks.
    private func refinePlain(_ flow: inout PlanarFlow, i0: Plane, i1: Plane) {
        let w = i0.width, h = i0.height, n = w * h
        guard n > 1, fixedPointIterations > 0 else { return }
        let t = dataTerms(flow, i0: i0, i1: i1)
        let u = ScratchPlane(copying: flow.u), v = ScratchPlane(copying: flow.v)
        let du = ScratchPlane(count: n), dv = ScratchPlane(count: n)
        let system = System(count: n)
        defer { t.free(); u.free(); v.free(); du.free(); dv.free(); system.free() }
        for _ in 0..<fixedPointIterations {
            Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                assemble(rows: rows, width: w, height: h, t: t, u: u.pointer, v: v.pointer,
                         du: du.pointer, dv: dv.pointer, system: system)
            }
            for _ in 0..<sorIterations {
                for colour in 0..<2 {
                    Parallel.forEachBand(h, threads: threads, minimumPerBand: Self.rowsPerBand) { rows in
                        sorSweep(rows: rows, colour: colour, width: w, height: h, u: u.pointer, v: v.pointer,
                                 du: du.pointer, dv: dv.pointer, system: system)
                    }
                }
            }
        }
        for i in 0..<n {
            flow.u[i] += du.pointer[i]
            flow.v[i] += dv.pointer[i]
        }
    }

    /// `assemble` with the normalised products precomputed and the data term eight pixels at a time.
    private func assembleFast(rows: Range<Int>, width w: Int, height h: Int, t: DataTerms,
                              u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                              du: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, system: System) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> V {
            UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
        }
        @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ v: V) {
            UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
        }
        let ix = t.ix.pointer, iy = t.iy.pointer, iz = t.iz.pointer, ixx = t.ixx.pointer, ixy = t.ixy.pointer
        let iyy = t.iyy.pointer, ixz = t.ixz.pointer, iyz = t.iyz.pointer, valid = t.valid.pointer
        let beta = t.beta.pointer, betaX = t.betaX.pointer, betaY = t.betaY.pointer
        let p11 = t.p11.pointer, p12 = t.p12.pointer, p22 = t.p22.pointer, q1 = t.q1.pointer, q2 = t.q2.pointer
        let g11 = t.g11.pointer, g12 = t.g12.pointer, g22 = t.g22.pointer, h1 = t.h1.pointer, h2 = t.h2.pointer
        let a11 = system.a11.pointer, a12 = system.a12.pointer, a22 = system.a22.pointer
        let b1 = system.b1.pointer, b2 = system.b2.pointer, sRight = system.sRight.pointer
        let sDown = system.sDown.pointer
        let eps2 = V(repeating: epsilonSquared), delta = V(repeating: delta), gamma = V(repeating: gamma)
        let start = rows.lowerBound * w, end = rows.upperBound * w
        var i = start
        while i + 8 <= end {
            let d = load(du, i), e = load(dv, i)
            let rho = load(iz, i) + load(ix, i) * d + load(iy, i) * e
            let psi1 = load(valid, i) * delta / (rho * rho * load(beta, i) + eps2).squareRoot()
            let rx = load(ixz, i) + load(ixx, i) * d + load(ixy, i) * e
            let ry = load(iyz, i) + load(ixy, i) * d + load(iyy, i) * e
            let psi2 = load(valid, i) * gamma / (rx * rx * load(betaX, i) + ry * ry * load(betaY, i) + eps2)
                .squareRoot()
            store(a11, i, psi1 * load(p11, i) + psi2 * load(g11, i))
            store(a12, i, psi1 * load(p12, i) + psi2 * load(g12, i))
            store(a22, i, psi1 * load(p22, i) + psi2 * load(g22, i))
            store(b1, i, psi1 * load(q1, i) + psi2 * load(h1, i))
            store(b2, i, psi1 * load(q2, i) + psi2 * load(h2, i))
            i += 8
        }
        while i < end {
            let d = du[i], e = dv[i]
            let rho = iz[i] + ix[i] * d + iy[i] * e
            let psi1 = valid[i] * delta[0] / (rho * rho * beta[i] + eps2[0]).squareRoot()
            let rx = ixz[i] + ixx[i] * d + ixy[i] * e, ry = iyz[i] + ixy[i] * d + iyy[i] * e
            let psi2 = valid[i] * gamma[0] / (rx * rx * betaX[i] + ry * ry * betaY[i] + eps2[0]).squareRoot()
            a11[i] = psi1 * p11[i] + psi2 * g11[i]
            a12[i] = psi1 * p12[i] + psi2 * g12[i]
            a22[i] = psi1 * p22[i] + psi2 * g22[i]
            b1[i] = psi1 * q1[i] + psi2 * h1[i]
            b2[i] = psi1 * q2[i] + psi2 * h2[i]
            i += 1
        }
        // Smoothness of the full flow (u + du), forward differences; zero weight across the border.
        for y in rows {
            let lastRow = y + 1 == h
            for x in 0..<w {
                let i = y * w + x
                let pu = u[i] + du[i], pv = v[i] + dv[i]
                var g: Float = 0
                if x + 1 < w {
                    let gu = u[i + 1] + du[i + 1] - pu, gv = v[i + 1] + dv[i + 1] - pv
                    g += gu * gu + gv * gv
                }
                if !lastRow {
                    let gu = u[i + w] + du[i + w] - pu, gv = v[i + w] + dv[i + w] - pv
                    g += gu * gu + gv * gv
                }
                let s = alpha / (g + epsilonSquared).squareRoot()
                sRight[i] = x + 1 < w ? s : 0
                sDown[i] = lastRow ? 0 : s
            }
        }
    }

    /// Robust weights at the current increment and the resulting linear system, for the given rows.
    private func assemble(rows: Range<Int>, width w: Int, height h: Int, t: DataTerms,
                          u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                          du: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, system: System) {
        let ix = t.ix.pointer, iy = t.iy.pointer, iz = t.iz.pointer, ixx = t.ixx.pointer, ixy = t.ixy.pointer
        let iyy = t.iyy.pointer, ixz = t.ixz.pointer, iyz = t.iyz.pointer, valid = t.valid.pointer
        let a11 = system.a11.pointer, a12 = system.a12.pointer, a22 = system.a22.pointer
        let b1 = system.b1.pointer, b2 = system.b2.pointer, sRight = system.sRight.pointer
        let sDown = system.sDown.pointer
        let eps2 = epsilonSquared, zeta2 = zetaSquared
        for y in rows {
            for x in 0..<w {
                let i = y * w + x
                let d = du[i], e = dv[i]
                // Brightness constancy, normalised by the gradient magnitude.
                let beta = 1 / (ix[i] * ix[i] + iy[i] * iy[i] + zeta2)
                let rho = iz[i] + ix[i] * d + iy[i] * e
                let psi1 = valid[i] * delta / (rho * rho * beta + eps2).squareRoot()
                // Gradient constancy, each component normalised by its own gradient magnitude.
                let betaX = 1 / (ixx[i] * ixx[i] + ixy[i] * ixy[i] + zeta2)
                let betaY = 1 / (iyy[i] * iyy[i] + ixy[i] * ixy[i] + zeta2)
                let rx = ixz[i] + ixx[i] * d + ixy[i] * e
                let ry = iyz[i] + ixy[i] * d + iyy[i] * e
                let psi2 = valid[i] * gamma / (rx * rx * betaX + ry * ry * betaY + eps2).squareRoot()
                let c1 = psi1 * beta, cx = psi2 * betaX, cy = psi2 * betaY
                a11[i] = c1 * ix[i] * ix[i] + cx * ixx[i] * ixx[i] + cy * ixy[i] * ixy[i]
                a12[i] = c1 * ix[i] * iy[i] + cx * ixx[i] * ixy[i] + cy * ixy[i] * iyy[i]
                a22[i] = c1 * iy[i] * iy[i] + cx * ixy[i] * ixy[i] + cy * iyy[i] * iyy[i]
                b1[i] = c1 * ix[i] * iz[i] + cx * ixx[i] * ixz[i] + cy * ixy[i] * iyz[i]
                b2[i] = c1 * iy[i] * iz[i] + cx * ixy[i] * ixz[i] + cy * iyy[i] * iyz[i]
                // Smoothness of the full flow (u + du), forward differences.
                var g: Float = 0
                if x + 1 < w {
                    let gu = (u[i + 1] + du[i + 1]) - (u[i] + d), gv = (v[i + 1] + dv[i + 1]) - (v[i] + e)
                    g += gu * gu + gv * gv
                }
                if y + 1 < h {
                    let gu = (u[i + w] + du[i + w]) - (u[i] + d), gv = (v[i + w] + dv[i + w]) - (v[i] + e)
                    g += gu * gu + gv * gv
                }
                let s = alpha / (g + eps2).squareRoot()
                sRight[i] = x + 1 < w ? s : 0
                sDown[i] = y + 1 < h ? s : 0
            }
        }
    }

    /// One red-black half sweep over `rows`: updates pixels with (x + y) % 2 == colour; their neighbours all
    /// have the other colour, so rows can be split across threads.
    private func sorSweep(rows: Range<Int>, colour: Int, width w: Int, height h: Int,
                          u: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
                          du: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, system: System) {
        let a11 = system.a11.pointer, a12 = system.a12.pointer, a22 = system.a22.pointer
        let b1 = system.b1.pointer, b2 = system.b2.pointer, sr = system.sRight.pointer, sd = system.sDown.pointer
        let omega = omega
        for y in rows {
            var x = (colour + y) & 1
            while x < w {
                let i = y * w + x
                var sumU: Float = 0, sumV: Float = 0, sumW: Float = 0
                let ui = u[i], vi = v[i]
                if x + 1 < w {
                    let s = sr[i]
                    sumU += s * (u[i + 1] + du[i + 1] - ui); sumV += s * (v[i + 1] + dv[i + 1] - vi); sumW += s
                }
                if x > 0 {
                    let s = sr[i - 1]
                    sumU += s * (u[i - 1] + du[i - 1] - ui); sumV += s * (v[i - 1] + dv[i - 1] - vi); sumW += s
                }
                if y + 1 < h {
                    let s = sd[i]
                    sumU += s * (u[i + w] + du[i + w] - ui); sumV += s * (v[i + w] + dv[i + w] - vi); sumW += s
                }
                if y > 0 {
                    let s = sd[i - w]
                    sumU += s * (u[i - w] + du[i - w] - ui); sumV += s * (v[i - w] + dv[i - w] - vi); sumW += s
                }
                let denU = a11[i] + sumW
                if denU > 0 {
                    du[i] += omega * ((sumU - b1[i] - a12[i] * dv[i]) / denU - du[i])
                }
                let denV = a22[i] + sumW
                if denV > 0 {
                    dv[i] += omega * ((sumV - b2[i] - a12[i] * du[i]) / denV - dv[i])
                }
                x += 2
            }
        }
    }

    /// Warps frame 2 by the flow and linearises both constancy assumptions around it.
    private func dataTerms(_ flow: PlanarFlow, i0: Plane, i1: Plane) -> DataTerms {
        let w = i0.width, h = i0.height, n = w * h
        var warped = [Float](repeating: 0, count: n)
        var valid = warped
        i1.pixels.withUnsafeBufferPointer { p in
            for y in 0..<h {
                for x in 0..<w {
                    let i = y * w + x
                    let tx = Float(x) + flow.u[i], ty = Float(y) + flow.v[i]
                    warped[i] = Sampling.bilinearClamped(p.baseAddress!, w, h, tx, ty)
                    valid[i] = (tx >= 0 && tx <= Float(w - 1) && ty >= 0 && ty <= Float(h - 1)) ? 1 : 0
                }
            }
        }
        var g0x = [Float](repeating: 0, count: n), g0y = g0x, g1x = g0x, g1y = g0x
        i0.pixels.withUnsafeBufferPointer { p in
            g0x.withUnsafeMutableBufferPointer { dx in g0y.withUnsafeMutableBufferPointer { dy in
                Pyramid.centralDifferences(p.baseAddress!, w, h, dx: dx.baseAddress!, dy: dy.baseAddress!)
            }}
        }
        warped.withUnsafeBufferPointer { p in
            g1x.withUnsafeMutableBufferPointer { dx in g1y.withUnsafeMutableBufferPointer { dy in
                Pyramid.centralDifferences(p.baseAddress!, w, h, dx: dx.baseAddress!, dy: dy.baseAddress!)
            }}
        }
        var ix = g0x, iy = g0x, iz = g0x, ixz = g0x, iyz = g0x
        for i in 0..<n {
            ix[i] = 0.5 * (g0x[i] + g1x[i])
            iy[i] = 0.5 * (g0y[i] + g1y[i])
            iz[i] = warped[i] - i0.pixels[i]
            ixz[i] = g1x[i] - g0x[i]
            iyz[i] = g1y[i] - g0y[i]
        }
        var ixx = ix, ixy = ix, iyx = ix, iyy = ix
        ix.withUnsafeBufferPointer { p in
            ixx.withUnsafeMutableBufferPointer { dx in ixy.withUnsafeMutableBufferPointer { dy in
                Pyramid.centralDifferences(p.baseAddress!, w, h, dx: dx.baseAddress!, dy: dy.baseAddress!)
            }}
        }
        iy.withUnsafeBufferPointer { p in
            iyx.withUnsafeMutableBufferPointer { dx in iyy.withUnsafeMutableBufferPointer { dy in
                Pyramid.centralDifferences(p.baseAddress!, w, h, dx: dx.baseAddress!, dy: dy.baseAddress!)
            }}
        }
        for i in 0..<n { ixy[i] = 0.5 * (ixy[i] + iyx[i]) }
        let planes = (0..<13).map { _ in ScratchPlane(count: n) }
        let (b, bx, by) = (planes[0].pointer, planes[1].pointer, planes[2].pointer)
        let (p11, p12, p22, q1, q2) = (planes[3].pointer, planes[4].pointer, planes[5].pointer, planes[6].pointer,
                                       planes[7].pointer)
        let (g11, g12, g22, h1, h2) = (planes[8].pointer, planes[9].pointer, planes[10].pointer, planes[11].pointer,
                                       planes[12].pointer)
        for i in 0..<n {
            b[i] = 1 / (ix[i] * ix[i] + iy[i] * iy[i] + zetaSquared)
            bx[i] = 1 / (ixx[i] * ixx[i] + ixy[i] * ixy[i] + zetaSquared)
            by[i] = 1 / (iyy[i] * iyy[i] + ixy[i] * ixy[i] + zetaSquared)
            p11[i] = b[i] * ix[i] * ix[i]; p12[i] = b[i] * ix[i] * iy[i]; p22[i] = b[i] * iy[i] * iy[i]
            q1[i] = b[i] * ix[i] * iz[i]; q2[i] = b[i] * iy[i] * iz[i]
            g11[i] = bx[i] * ixx[i] * ixx[i] + by[i] * ixy[i] * ixy[i]
            g12[i] = bx[i] * ixx[i] * ixy[i] + by[i] * ixy[i] * iyy[i]
            g22[i] = bx[i] * ixy[i] * ixy[i] + by[i] * iyy[i] * iyy[i]
            h1[i] = bx[i] * ixx[i] * ixz[i] + by[i] * ixy[i] * iyz[i]
            h2[i] = bx[i] * ixy[i] * ixz[i] + by[i] * iyy[i] * iyz[i]
        }
        return DataTerms(ix: ScratchPlane(copying: ix), iy: ScratchPlane(copying: iy), iz: ScratchPlane(copying: iz),
                         ixx: ScratchPlane(copying: ixx), ixy: ScratchPlane(copying: ixy),
                         iyy: ScratchPlane(copying: iyy), ixz: ScratchPlane(copying: ixz),
                         iyz: ScratchPlane(copying: iyz), valid: ScratchPlane(copying: valid),
                         beta: planes[0], betaX: planes[1], betaY: planes[2], p11: planes[3], p12: planes[4],
                         p22: planes[5], q1: planes[6], q2: planes[7], g11: planes[8], g12: planes[9],
                         g22: planes[10], h1: planes[11], h2: planes[12])
    }
}
