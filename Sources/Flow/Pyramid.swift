// Image pyramids, gradients, padding and flow resampling shared by the DIS and Farneback methods.
// Coordinates follow the pixel-centre convention: pixel x at level l+1 covers pixels 2x and 2x+1 of level l,
// so x_{l+1} = (x_l + 0.5) / 2 - 0.5.
import ParallelLoops

/// One level of a pyramid: a plain single-channel plane.
typealias Plane = GrayImage

enum Pyramid {
    /// Halves with the binomial kernel [1 3 3 1]/8 in each direction (centred between pixels 2x and 2x+1, so
    /// the pixel-centre convention is the box filter's) — less aliasing than the 2×2 box.
    /// Images narrower than 2 pixels are resampled instead; never goes below 1×1.
    static func halve(_ image: Plane) -> Plane {
        let sw = image.width, sh = image.height
        let w = max(1, sw / 2), h = max(1, sh / 2)
        if sw < 2 || sh < 2 { return resample(image, width: w, height: h) }
        var rows = [Float](repeating: 0, count: w * sh)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<sh {
                let r = src.baseAddress! + y * sw
                for x in 0..<w {
                    let a = r[max(2 * x - 1, 0)], b = r[2 * x], c = r[2 * x + 1], d = r[min(2 * x + 2, sw - 1)]
                    rows[y * w + x] = 0.125 * (a + d) + 0.375 * (b + c)
                }
            }
        }
        var out = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            let a = max(2 * y - 1, 0) * w, b = 2 * y * w, c = (2 * y + 1) * w, d = min(2 * y + 2, sh - 1) * w
            for x in 0..<w {
                out[y * w + x] = 0.125 * (rows[a + x] + rows[d + x]) + 0.375 * (rows[b + x] + rows[c + x])
            }
        }
        return Plane(width: w, height: h, pixels: out)
    }

    /// The pyramids of both frames; with two or more threads and a large frame they are built concurrently.
    static func buildPair(_ a: Plane, _ b: Plane, levels: Int, threads: Int) -> ([Plane], [Plane]) {
        guard threads > 1, a.width * a.height >= 64 * 1024 else {
            return (build(a, levels: levels), build(b, levels: levels))
        }
        var results: [[Plane]] = [[], []]
        results.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            Parallel.forEachBand(2, threads: 2, minimumPerBand: 1) { parts in
                for part in parts { out[part] = build(part == 0 ? a : b, levels: levels) }
            }
        }
        return (results[0], results[1])
    }

    /// Levels 0...levels (level 0 is the image itself).
    static func build(_ image: Plane, levels: Int) -> [Plane] {
        var out = [image]
        for _ in 0..<max(0, levels) { out.append(halve(out.last!)) }
        return out
    }

    /// Bilinear resampling to an arbitrary size (pixel-centre aligned, clamped borders).
    static func resample(_ image: Plane, width: Int, height: Int) -> Plane {
        let sx = Float(image.width) / Float(max(1, width)), sy = Float(image.height) / Float(max(1, height))
        var out = [Float](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let fx = (Float(x) + 0.5) * sx - 0.5, fy = (Float(y) + 0.5) * sy - 0.5
                out[y * width + x] = Sampling.bilinearClamped(image.pixels, image.width, image.height, fx, fy)
            }
        }
        return Plane(width: width, height: height, pixels: out)
    }

    /// Sobel derivatives divided by 8 (intensity per pixel), replicated borders.
    static func sobel(_ image: Plane) -> (dx: Plane, dy: Plane) {
        let w = image.width, h = image.height
        var gx = [Float](repeating: 0, count: w * h), gy = gx
        image.pixels.withUnsafeBufferPointer { p in
            for y in 0..<h {
                let ym = max(y - 1, 0) * w, y0 = y * w, yp = min(y + 1, h - 1) * w
                for x in 0..<w {
                    let xm = max(x - 1, 0), xp = min(x + 1, w - 1)
                    let a = p[ym + xm], b = p[ym + x], c = p[ym + xp]
                    let d = p[y0 + xm], f = p[y0 + xp]
                    let g = p[yp + xm], hh = p[yp + x], i = p[yp + xp]
                    gx[y0 + x] = 0.125 * ((c + 2 * f + i) - (a + 2 * d + g))
                    gy[y0 + x] = 0.125 * ((g + 2 * hh + i) - (a + 2 * b + c))
                }
            }
        }
        return (Plane(width: w, height: h, pixels: gx), Plane(width: w, height: h, pixels: gy))
    }

    /// Central differences with replicated borders (used by the variational refinement).
    static func centralDifferences(_ p: UnsafePointer<Float>, _ w: Int, _ h: Int,
                                   dx: UnsafeMutablePointer<Float>, dy: UnsafeMutablePointer<Float>) {
        for y in 0..<h {
            let ym = max(y - 1, 0) * w, y0 = y * w, yp = min(y + 1, h - 1) * w
            for x in 0..<w {
                let xm = max(x - 1, 0), xp = min(x + 1, w - 1)
                dx[y0 + x] = 0.5 * (p[y0 + xp] - p[y0 + xm])
                dy[y0 + x] = 0.5 * (p[yp + x] - p[ym + x])
            }
        }
    }
}

/// A plane with a replicated border of `border` pixels on every side, so patch reads need no bounds checks.
struct PaddedPlane {
    let width: Int, height: Int, border: Int
    let stride: Int
    var data: [Float]

    init(_ image: Plane, border: Int) {
        self.width = image.width
        self.height = image.height
        self.border = border
        stride = image.width + 2 * border
        let ph = image.height + 2 * border
        var data = [Float](repeating: 0, count: stride * ph)
        let w = image.width, h = image.height
        for py in 0..<ph {
            let sy = min(max(py - border, 0), h - 1)
            let row = sy * w
            for px in 0..<stride {
                let sx = min(max(px - border, 0), w - 1)
                data[py * stride + px] = image.pixels[row + sx]
            }
        }
        self.data = data
    }
}

enum Sampling {
    /// Bilinear sample at (x, y) with coordinates clamped to the image (replicated border).
    @inline(__always)
    static func bilinearClamped(_ p: UnsafePointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
        let cx = min(max(x, 0), Float(w - 1)), cy = min(max(y, 0), Float(h - 1))
        let x0 = Int(cx), y0 = Int(cy)
        let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
        let fx = cx - Float(x0), fy = cy - Float(y0)
        let top = p[y0 * w + x0] + fx * (p[y0 * w + x1] - p[y0 * w + x0])
        let bottom = p[y1 * w + x0] + fx * (p[y1 * w + x1] - p[y1 * w + x0])
        return top + fy * (bottom - top)
    }

    static func bilinearClamped(_ pixels: [Float], _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
        pixels.withUnsafeBufferPointer { bilinearClamped($0.baseAddress!, w, h, x, y) }
    }
}

/// Planar flow (separate x and y planes), the layout the solvers work in.
struct PlanarFlow {
    var width: Int, height: Int
    var u: [Float], v: [Float]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        u = [Float](repeating: 0, count: width * height)
        v = u
    }

    init(_ field: FlowField) {
        width = field.width
        height = field.height
        let n = field.width * field.height
        u = (0..<n).map { field.values[2 * $0] }
        v = (0..<n).map { field.values[2 * $0 + 1] }
    }

    func interleaved() -> FlowField {
        var values = [Float](repeating: 0, count: width * height * 2)
        for i in 0..<(width * height) {
            values[2 * i] = u[i]
            values[2 * i + 1] = v[i]
        }
        return FlowField(width: width, height: height, values: values)
    }

    /// Bilinear resize to `width`×`height` (pixel-centre aligned), with vectors multiplied by `scale`
    /// (2 for one pyramid level up). Rows run in parallel.
    func resized(width tw: Int, height th: Int, scale: Float, threads: Int) -> PlanarFlow {
        var out = PlanarFlow(width: tw, height: th)
        out.u.withUnsafeMutableBufferPointer { du in
            out.v.withUnsafeMutableBufferPointer { dv in
                resample(width: tw, height: th, scale: scale, threads: threads) { i, a, b in
                    du[i] = a
                    dv[i] = b
                }
            }
        }
        return out
    }

    /// The same resize written straight into an interleaved field (the last step of DIS: saves a pass over
    /// the full-resolution output).
    func resizedField(width tw: Int, height th: Int, scale: Float, threads: Int) -> FlowField {
        var values = [Float](repeating: 0, count: 2 * tw * th)
        values.withUnsafeMutableBufferPointer { out in
            resample(width: tw, height: th, scale: scale, threads: threads) { i, a, b in
                out[2 * i] = a
                out[2 * i + 1] = b
            }
        }
        return FlowField(width: tw, height: th, values: values)
    }

    /// Bilinear resampling driver: calls `write(index, dx, dy)` for every target pixel, rows in parallel.
    @inline(__always)
    private func resample(width tw: Int, height th: Int, scale: Float, threads: Int,
                          write: (Int, Float, Float) -> Void) {
        let sw = width, sh = height
        let rx = Float(sw) / Float(tw), ry = Float(sh) / Float(th)
        // Horizontal taps are the same for every row: compute them once.
        var x0s = [Int](repeating: 0, count: tw), x1s = x0s, fxs = [Float](repeating: 0, count: tw)
        for x in 0..<tw {
            let fx = min(max((Float(x) + 0.5) * rx - 0.5, 0), Float(sw - 1))
            x0s[x] = Int(fx)
            x1s[x] = min(x0s[x] + 1, sw - 1)
            fxs[x] = fx - Float(x0s[x])
        }
        u.withUnsafeBufferPointer { su in
            v.withUnsafeBufferPointer { sv in
                x0s.withUnsafeBufferPointer { x0p in x1s.withUnsafeBufferPointer { x1p in
                fxs.withUnsafeBufferPointer { fxp in
                    let su = su.baseAddress!, sv = sv.baseAddress!
                    Parallel.forEachBand(th, threads: threads, minimumPerBand: 32) { rows in
                        for y in rows {
                            let fy = min(max((Float(y) + 0.5) * ry - 0.5, 0), Float(sh - 1))
                            let y0 = Int(fy), y1 = min(y0 + 1, sh - 1), wy = fy - Float(y0)
                            let a0 = y0 * sw, a1 = y1 * sw
                            for x in 0..<tw {
                                let x0 = x0p[x], x1 = x1p[x], wx = fxp[x]
                                let ut = su[a0 + x0] + wx * (su[a0 + x1] - su[a0 + x0])
                                let ub = su[a1 + x0] + wx * (su[a1 + x1] - su[a1 + x0])
                                let vt = sv[a0 + x0] + wx * (sv[a0 + x1] - sv[a0 + x0])
                                let vb = sv[a1 + x0] + wx * (sv[a1 + x1] - sv[a1 + x0])
                                write(y * tw + x, scale * (ut + wy * (ub - ut)), scale * (vt + wy * (vb - vt)))
                            }
                        }
                    }
                }}}
            }
        }
    }
}

