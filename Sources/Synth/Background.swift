// The scene behind the people: a wall and a floor with smooth fractal noise texture, a light gradient and
// clutter (panels, windows, discs, poles, boxes). It wraps around horizontally so the camera can pan forever,
// and is a little taller than the frame so the camera can shake.
import Foundation
import SeededRandom

struct Background {
    let width: Int
    let height: Int
    /// Rows above and below the frame's area (vertical shake room).
    let margin: Int
    /// Where the floor starts, in background rows.
    let horizon: Int
    let outdoors: Bool
    var rgb: [Float]

    init(frameWidth: Int, frameHeight: Int, horizonY: Double, rng: inout SplitMix64) {
        margin = max(4, frameHeight / 20)
        width = frameWidth * 2
        height = frameHeight + 2 * margin
        horizon = Int(horizonY) + margin
        rgb = [Float](repeating: 0, count: width * height * 3)
        let scale = Double(frameHeight) / 240
        // Indoors: a wall and a floor in any colours. Outdoors: sky with clouds over grass, asphalt or sand.
        outdoors = rng.chance(0.35)
        var wallA = Background.colour(&rng), wallB = Background.colour(&rng) * Float(rng.uniform(0.6, 1.1))
        var floorA = Background.colour(&rng) * 0.8, floorB = Background.colour(&rng) * 0.6
        if outdoors {
            wallA = Background.float(hsv(rng.uniform(0.54, 0.62), rng.uniform(0.25, 0.65), rng.uniform(0.7, 0.95)))
            wallB = SIMD3<Float>(repeating: Float(rng.uniform(0.85, 1)))
            let ground = [hsv(rng.uniform(0.2, 0.33), rng.uniform(0.4, 0.75), rng.uniform(0.3, 0.6)),
                          Vec3(repeating: rng.uniform(0.25, 0.5)),
                          hsv(rng.uniform(0.08, 0.13), rng.uniform(0.3, 0.5), rng.uniform(0.55, 0.8))]
            floorA = Background.float(rng.pick(ground))
            floorB = floorA * Float(rng.uniform(0.5, 0.8))
        }
        let wallNoise = FractalNoise(width: width, height: height, cell: rng.uniform(20, 70) * scale, octaves: 4,
                                     rng: &rng)
        let floorNoise = FractalNoise(width: width, height: height, cell: rng.uniform(10, 40) * scale, octaves: 4,
                                      rng: &rng)
        let grain = FractalNoise(width: width, height: height, cell: 3 * scale, octaves: 1, rng: &rng)
        let wallContrast = Float(rng.uniform(0.3, 1)), floorContrast = Float(rng.uniform(0.3, 1))
        let grainAmount = Float(rng.uniform(0, 0.12))
        let lightWaves = Double(rng.int(1...2)), lightPhase = rng.unit() * 2 * .pi
        let lightAmount = Float(rng.uniform(0, 0.25))
        let tiles = !outdoors && rng.chance(0.4) ? rng.uniform(12, 30) * scale : 0
        // The light pool repeats with the wrap-around and depends on x only.
        let pool = (0..<width).map { x in
            1 + lightAmount * Float(cos(2 * .pi * lightWaves * Double(x) / Double(width) + lightPhase))
        }
        var texture = [Float](repeating: 0, count: width), fine = [Float](repeating: 0, count: width)
        for y in 0..<height {
            let onFloor = y >= horizon
            (onFloor ? floorNoise : wallNoise).row(y, into: &texture)
            grain.row(y, into: &fine)
            let contrast = onFloor ? floorContrast : wallContrast
            // Sky deepens towards the top.
            let skyShade: Float = outdoors && !onFloor ? 0.8 + 0.2 * Float(y) / Float(max(1, horizon)) : 1
            let low = onFloor ? floorA : wallA * skyShade, high = onFloor ? floorB : wallB * skyShade
            // Farther floor (near the horizon) is a little darker; optional tile seams.
            let depth = onFloor ? Float(y - horizon) / Float(max(1, height - horizon)) : 1
            let spacing = tiles * (0.3 + 1.7 * Double(depth))
            let seamRow = onFloor && tiles > 0 && fmodPositive(Double(y - horizon), spacing * 0.5) < 1
            for x in 0..<width {
                let k = 0.5 + (texture[x] - 0.5) * contrast * 2
                var c = low + (high - low) * k
                c *= (1 + grainAmount * (fine[x] - 0.5)) * pool[x]
                if onFloor {
                    c *= 0.75 + 0.25 * depth
                    if tiles > 0, seamRow || fmodPositive(Double(x), spacing) < 1 { c *= 0.82 }
                }
                let i = (y * width + x) * 3
                rgb[i] = c.x; rgb[i + 1] = c.y; rgb[i + 2] = c.z
            }
        }
        // Horizon line: skirting board or shadow.
        let skirt = Background.colour(&rng) * 0.5
        for y in max(0, horizon - Int(3 * scale))..<min(height, horizon + 1) {
            for x in 0..<width { set(x, y, skirt, 0.8) }
        }
        addClutter(count: rng.int(4...14), scale: scale, rng: &rng)
    }

    static func float(_ c: Vec3) -> SIMD3<Float> { SIMD3<Float>(Float(c.x), Float(c.y), Float(c.z)) }

    static func colour(_ rng: inout SplitMix64) -> SIMD3<Float> {
        let c = rng.chance(0.3) ? Vec3(repeating: rng.uniform(0.15, 0.9))
            : hsv(rng.unit(), rng.uniform(0.05, 0.6), rng.uniform(0.2, 0.95))
        return SIMD3<Float>(Float(c.x), Float(c.y), Float(c.z))
    }

    @inline(__always)
    private mutating func set(_ x: Int, _ y: Int, _ c: SIMD3<Float>, _ alpha: Float) {
        let xx = ((x % width) + width) % width
        guard y >= 0, y < height else { return }
        let i = (y * width + xx) * 3
        rgb[i] += (c.x - rgb[i]) * alpha
        rgb[i + 1] += (c.y - rgb[i + 1]) * alpha
        rgb[i + 2] += (c.z - rgb[i + 2]) * alpha
    }

    /// Furniture-like shapes with soft (anti-aliased) edges and a vertical shading gradient.
    private mutating func addClutter(count: Int, scale: Double, rng: inout SplitMix64) {
        for _ in 0..<count {
            let colour = Background.colour(&rng)
            let kind = rng.int(0...3)
            let cx = rng.uniform(0, Double(width))
            switch kind {
            case 0, 1:  // panel, window, shelf on the wall; box on the floor
                let onFloor = kind == 1
                let w = rng.uniform(20, 110) * scale, h = rng.uniform(15, 90) * scale
                // Outdoors the wall shapes become buildings standing on the horizon.
                let bottom = onFloor ? rng.uniform(Double(horizon) + 10 * scale, Double(height)) :
                    outdoors ? Double(horizon) + 1 : rng.uniform(h, Double(horizon))
                let top = bottom - h
                let frame = rng.chance(0.5) ? colour * 0.6 : colour
                for y in max(0, Int(top))..<min(height, Int(bottom.rounded(.up))) {
                    let yCover = Float(min(1, Double(y) + 1 - top, bottom - Double(y)))
                    let shade = 1 - 0.25 * Float((Double(y) - top) / h)
                    for x in Int(cx - w / 2)..<Int((cx + w / 2).rounded(.up)) {
                        let xCover = Float(min(1, Double(x) + 1 - (cx - w / 2), cx + w / 2 - Double(x)))
                        let edge = Double(x) - (cx - w / 2) < 2 * scale || cx + w / 2 - Double(x) < 2 * scale
                            || Double(y) - top < 2 * scale || bottom - Double(y) < 2 * scale
                        set(x, y, (edge ? frame : colour) * shade, max(0, min(1, xCover * yCover)))
                    }
                }
            case 2:  // disc: clock, lamp, plant pot; outdoors a tree crown on its trunk
                let r = rng.uniform(5, 30) * scale
                var cy = rng.uniform(r, Double(height) - r)
                var fill = colour
                if outdoors {
                    fill = Background.float(hsv(rng.uniform(0.2, 0.38), rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.5)))
                    cy = Double(horizon) - rng.uniform(1.5, 3) * r
                    let trunk = Background.float(Vec3(0.3, 0.2, 0.1)) * Float(rng.uniform(0.6, 1.2))
                    for y in max(0, Int(cy))..<min(height, horizon + 2) {
                        for x in Int(cx - 0.15 * r)..<Int((cx + 0.15 * r).rounded(.up)) { set(x, y, trunk, 1) }
                    }
                }
                for y in max(0, Int(cy - r - 1))..<min(height, Int(cy + r + 2)) {
                    for x in Int(cx - r - 1)..<Int(cx + r + 2) {
                        let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                        let d = (dx * dx + dy * dy).squareRoot() - r
                        let alpha = Float(min(1, max(0, 0.5 - d)))
                        if alpha > 0 { set(x, y, fill * Float(1 - 0.3 * dy / r), alpha) }
                    }
                }
            default:  // pole or door frame: a tall thin bar
                let w = rng.uniform(3, 14) * scale, top = rng.uniform(0, Double(horizon) * 0.5)
                let bottom = rng.uniform(Double(horizon), Double(height))
                for y in max(0, Int(top))..<min(height, Int(bottom)) {
                    for x in Int(cx - w / 2)..<Int((cx + w / 2).rounded(.up)) {
                        let across = (Double(x) + 0.5 - cx) / (w / 2)
                        set(x, y, colour * Float(1 - 0.35 * across), 1)
                    }
                }
            }
        }
    }
}

/// Value noise on a lattice that wraps around horizontally, summed over octaves (fractal Brownian motion).
struct FractalNoise {
    private var layers: [(cell: Double, cellsX: Int, cellsY: Int, values: [Float], weight: Float)] = []

    init(width: Int, height: Int, cell: Double, octaves: Int, rng: inout SplitMix64) {
        var size = max(2, cell), weight: Float = 1, total: Float = 0
        for _ in 0..<octaves {
            // A whole number of cells across the width keeps the wrap seamless.
            let cellsX = max(1, Int((Double(width) / size).rounded()))
            let cellSize = Double(width) / Double(cellsX)
            let cellsY = Int(Double(height) / cellSize) + 2
            var values = [Float](repeating: 0, count: cellsX * cellsY)
            for i in values.indices { values[i] = Float(rng.unit()) }
            layers.append((cellSize, cellsX, cellsY, values, weight))
            total += weight
            weight *= 0.5
            size /= 2
        }
        for i in layers.indices { layers[i].weight /= total }
    }

    /// In [0, 1]. The plain per-point definition; `row` is the fast form used for whole backgrounds.
    func value(_ x: Double, _ y: Double) -> Double {
        var sum: Float = 0
        for layer in layers {
            let fx = x / layer.cell, fy = y / layer.cell
            let ix = Int(fx.rounded(.down)), iy = Int(fy.rounded(.down))
            let tx = Float(fx - Double(ix)), ty = Float(fy - Double(iy))
            let sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty)
            let x0 = ((ix % layer.cellsX) + layer.cellsX) % layer.cellsX, x1 = (x0 + 1) % layer.cellsX
            let y0 = min(max(iy, 0), layer.cellsY - 2), y1 = y0 + 1
            let v = layer.values
            let a = v[y0 * layer.cellsX + x0], b = v[y0 * layer.cellsX + x1]
            let c = v[y1 * layer.cellsX + x0], d = v[y1 * layer.cellsX + x1]
            sum += layer.weight * ((a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy)
        }
        return Double(sum)
    }

    /// `value(x, y)` for x = 0..<row.count: each octave blends its two lattice rows once, then interpolates
    /// along x from a per-column table.
    func row(_ y: Int, into row: inout [Float]) {
        let n = row.count
        row.withUnsafeMutableBufferPointer { out in
            out.update(repeating: 0)
            var blended = [Float]()
            for layer in layers {
                let fy = Double(y) / layer.cell
                let iy = Int(fy.rounded(.down))
                let ty = Float(fy - Double(iy)), sy = ty * ty * (3 - 2 * ty)
                let y0 = min(max(iy, 0), layer.cellsY - 2)
                blended.removeAll(keepingCapacity: true)
                for cx in 0..<layer.cellsX {
                    let top = layer.values[y0 * layer.cellsX + cx], bottom = layer.values[(y0 + 1) * layer.cellsX + cx]
                    blended.append(top * (1 - sy) + bottom * sy)
                }
                blended.withUnsafeBufferPointer { lattice in
                    for x in 0..<n {
                        let fx = Double(x) / layer.cell
                        let ix = Int(fx.rounded(.down))
                        let tx = Float(fx - Double(ix)), sx = tx * tx * (3 - 2 * tx)
                        let x0 = ((ix % layer.cellsX) + layer.cellsX) % layer.cellsX, x1 = (x0 + 1) % layer.cellsX
                        out[x] += layer.weight * (lattice[x0] + (lattice[x1] - lattice[x0]) * sx)
                    }
                }
            }
        }
    }
}

func fmodPositive(_ x: Double, _ m: Double) -> Double {
    let r = x.truncatingRemainder(dividingBy: m)
    return r < 0 ? r + m : r
}

