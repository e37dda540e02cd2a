// The red-black SOR solver of variational refinement: the linear system of one fixed-point iteration in a
// split layout where each colour is a plane of its own, so a sweep over one colour reads only the other.

/// The SOR system of one fixed-point iteration in red-black split layout. Pixel (x, y) has colour (x + y) & 1
/// and sits at column k = x / 2 of its colour's plane; each plane row has a zero pad column on both sides and
/// there is a zero pad row above and below, so reads past a border hit zeros (whose weights are zero anyway).
/// Neighbours of (k, y) in the other colour: right k + s, left k − 1 + s (s = x & 1), up/down k in rows y ± 1.
struct RedBlackSystem {
    let width: Int, height: Int
    /// Colour-plane row length without pads ((width + 1) / 2) and with them.
    let half: Int, stride: Int
    /// Per colour: du, dv, weights to the right/left/down/up neighbour, constants cu, cv, a12, 1/diagonals.
    let planes: [[ScratchPlane]]

    static let names = 11

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        half = (width + 1) / 2
        stride = half + 2
        let count = (height + 2) * stride
        planes = (0..<2).map { _ in (0..<Self.names).map { _ in ScratchPlane(count: count) } }
    }

    func free() { for colour in planes { for p in colour { p.free() } } }

    /// Index of column k (may be −1 or `half`) in row y (may be −1 or `height`).
    @inline(__always) func index(_ k: Int, _ y: Int) -> Int { (y + 1) * stride + k + 1 }

    /// Copies the system (normal layout, guard-padded so i − 1 and i − w are readable) into the split layout.
    func scatter(rows: Range<Int>, sr: UnsafeMutablePointer<Float>, sd: UnsafeMutablePointer<Float>,
                 cu: UnsafeMutablePointer<Float>, cv: UnsafeMutablePointer<Float>, c12: UnsafeMutablePointer<Float>,
                 iu: UnsafeMutablePointer<Float>, iv: UnsafeMutablePointer<Float>,
                 du: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>) {
        let w = width
        for colour in 0..<2 {
            let p = planes[colour]
            let pdu = p[0].pointer, pdv = p[1].pointer, pwr = p[2].pointer, pwl = p[3].pointer, pwd = p[4].pointer
            let pwu = p[5].pointer, pcu = p[6].pointer, pcv = p[7].pointer, pc12 = p[8].pointer
            let piu = p[9].pointer, piv = p[10].pointer
            for y in rows {
                var x = (colour + y) & 1
                var j = index(x >> 1, y)
                var i = y * w + x
                while x < w {
                    pdu[j] = du[i]; pdv[j] = dv[i]
                    pwr[j] = sr[i]; pwl[j] = sr[i - 1]; pwd[j] = sd[i]; pwu[j] = sd[i - w]
                    pcu[j] = cu[i]; pcv[j] = cv[i]; pc12[j] = c12[i]; piu[j] = iu[i]; piv[j] = iv[i]
                    x += 2; i += 2; j += 1
                }
            }
        }
    }

    /// Copies the increments back to the normal layout.
    func gather(rows: Range<Int>, du: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>) {
        let w = width
        for colour in 0..<2 {
            let pdu = planes[colour][0].pointer, pdv = planes[colour][1].pointer
            for y in rows {
                var x = (colour + y) & 1
                var j = index(x >> 1, y)
                while x < w {
                    du[y * w + x] = pdu[j]
                    dv[y * w + x] = pdv[j]
                    x += 2; j += 1
                }
            }
        }
    }

    /// One half sweep: updates every pixel of `colour` in `rows`, eight at a time. Slots past a row's last
    /// pixel (odd widths) have zero weights and constants, so they stay zero.
    func sweep(rows: Range<Int>, colour: Int, omega: Float) {
        typealias V = SIMD8<Float>
        @inline(__always) func load(_ p: UnsafeMutablePointer<Float>) -> V {
            UnsafeRawPointer(p).loadUnaligned(as: V.self)
        }
        @inline(__always) func store(_ p: UnsafeMutablePointer<Float>, _ v: V) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
        }
        let me = planes[colour], other = planes[1 - colour]
        let du = me[0].pointer, dv = me[1].pointer, wr = me[2].pointer, wl = me[3].pointer, wd = me[4].pointer
        let wu = me[5].pointer, cu = me[6].pointer, cv = me[7].pointer, c12 = me[8].pointer
        let iu = me[9].pointer, iv = me[10].pointer
        let ou = other[0].pointer, ov = other[1].pointer
        let om = V(repeating: omega)
        for y in rows {
            let s = (colour + y) & 1
            let row = index(0, y)
            let right = row + s, left = row - 1 + s, down = index(0, y + 1), up = index(0, y - 1)
            var k = 0
            while k + 8 <= half {
                let j = row + k
                let a = load(wr + j), b = load(wl + j), c = load(wd + j), d = load(wu + j)
                let oldU = load(du + j), oldV = load(dv + j)
                let nu = a * load(ou + right + k) + b * load(ou + left + k) + c * load(ou + down + k)
                    + d * load(ou + up + k)
                let newU = oldU + om * ((nu + load(cu + j) - load(c12 + j) * oldV) * load(iu + j) - oldU)
                let nv = a * load(ov + right + k) + b * load(ov + left + k) + c * load(ov + down + k)
                    + d * load(ov + up + k)
                let newV = oldV + om * ((nv + load(cv + j) - load(c12 + j) * newU) * load(iv + j) - oldV)
                store(du + j, newU)
                store(dv + j, newV)
                k += 8
            }
            while k < half {
                let j = row + k
                let nu = wr[j] * ou[right + k] + wl[j] * ou[left + k] + wd[j] * ou[down + k] + wu[j] * ou[up + k]
                let newU = du[j] + omega * ((nu + cu[j] - c12[j] * dv[j]) * iu[j] - du[j])
                du[j] = newU
                let nv = wr[j] * ov[right + k] + wl[j] * ov[left + k] + wd[j] * ov[down + k] + wu[j] * ov[up + k]
                dv[j] += omega * ((nv + cv[j] - c12[j] * newU) * iv[j] - dv[j])
                k += 1
            }
        }
    }
}
