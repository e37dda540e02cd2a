// The fast convolution: weights packed once at model load, then per call a lowering to OpenBLAS sgemm
// and one fused output pass (bias + residual + activation).

/// A convolution whose weights are packed once; `run` is the fast path, tested against `ReferenceConv`.
/// Immutable after init, so one instance may serve concurrent `run` calls with distinct workspaces.
///
/// Three strategies, picked from the geometry:
/// - pointwise (1×1(×1), unit strides, no pads): the input already is the sgemm B operand; no lowering;
/// - depthwise (one input and one output channel per group): a direct loop per plane, no sgemm;
/// - lowered: im2col + sgemm on tiles. The output pixels are cut into tiles; each worker lowers one tile into
///   its own cache-sized slab of the workspace and multiplies it with a single-threaded sgemm straight into
///   the output, then applies bias/residual/activation while the tile is still in cache. The full column
///   matrix (for a 3×3×3 conv 27× the input) is never built, and a call has a single parallel region.
public final class PackedConv: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// Weights as [group][outChannels/group][inChannels/group · kernelVolume]: ONNX's layout is already the
    /// row-major A operand of the per-group sgemm, so packing is a copy that outlives the model's buffers.
    private let weights: UnsafeMutablePointer<Float>
    private let bias: UnsafeMutablePointer<Float>?
    private let strategy: Strategy

    enum Strategy { case pointwise, depthwise, lowered }

    /// Target floats of one worker's column slab: about half of a 2 MB L2, leaving room for OpenBLAS's packs.
    /// (Tests shrink these to force the tiled path on small shapes.)
    nonisolated(unsafe) static var tileFloats = 1 << 17
    nonisolated(unsafe) static var minimumTileColumns = 64

    public init(_ g: ConvGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
        precondition(g.group > 0 && g.inChannels % g.group == 0 && g.outChannels % g.group == 0,
                     "conv channels \(g.inChannels)→\(g.outChannels) not divisible by group \(g.group)")
        geometry = g
        weights = .allocate(capacity: max(1, g.weightCount))
        weights.update(from: weight, count: g.weightCount)
        if let bias {
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: g.outChannels)
            copy.update(from: bias, count: g.outChannels)
            self.bias = copy
        } else {
            self.bias = nil
        }
        if g.kernel.allSatisfy({ $0 == 1 }) && g.strides.allSatisfy({ $0 == 1 })
            && g.padsBegin.allSatisfy({ $0 == 0 }) && g.padsEnd.allSatisfy({ $0 == 0 }) {
            strategy = .pointwise
        } else if g.inChannelsPerGroup == 1 && g.outChannelsPerGroup == 1 {
            strategy = .depthwise
        } else {
            strategy = .lowered
        }
    }

    deinit {
        weights.deallocate()
        bias?.deallocate()
    }

    /// How `run` cuts the work: tiles of `columns` output pixels, each split into `channelBlocks` blocks of
    /// output channels. Many tiles → one block per tile; few (a small output) → several channel blocks, so every
    /// worker still has work (each lowers the small tile itself instead of waiting for a shared one).
    struct Tiling {
        var columns: Int
        var tilesPerPlane: Int
        var channelBlocks: Int
    }

    func tiling(outPlane: Int, batch: Int) -> Tiling {
        let g = geometry
        let depth = g.inChannelsPerGroup * g.kernelVolume
        let target = max(Self.minimumTileColumns, (Self.tileFloats / max(1, depth) + 15) & ~15)
        let tilesPerPlane = (outPlane + target - 1) / target
        let columns = (outPlane + tilesPerPlane - 1) / tilesPerPlane  // even tiles, none nearly empty
        let tiles = batch * g.group * tilesPerPlane
        let workers = KernelThreads.workers
        var blocks = 1
        if tiles < 2 * workers {
            blocks = min((2 * workers + tiles - 1) / tiles, max(1, g.outChannelsPerGroup / 16))
        }
        return Tiling(columns: columns, tilesPerPlane: tilesPerPlane, channelBlocks: blocks)
    }

    /// Floats of scratch `run` needs for this input size (a column slab per worker; none for 1×1 or depthwise).
    public func workspaceCount(batch: Int, inputSpatial: [Int]) -> Int {
        switch strategy {
        case .pointwise, .depthwise: return 0
        case .lowered:
            let outPlane = geometry.outputSpatial(for: inputSpatial).reduce(1, *)
            let depth = geometry.inChannelsPerGroup * geometry.kernelVolume
            return KernelThreads.maxWorkers * depth * tiling(outPlane: outPlane, batch: max(1, batch)).columns
        }
    }

    /// output = act(conv(input) + bias + residual). `residual` has the output's shape.
    public func run(
        batch: Int, inputSpatial: [Int], input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>? = nil, activation: ConvActivation = .none,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let ax = geometry.axes(inputSpatial: inputSpatial)
        let outPlane = ax[0].output * ax[1].output * ax[2].output
        if outPlane == 0 || batch == 0 { return }
        switch strategy {
        case .depthwise:
            runDepthwise(ax, batch: batch, input: input, output: output, residual: residual, activation: activation)
        case .pointwise, .lowered:
            runTiled(ax, batch: batch, input: input, output: output, residual: residual, activation: activation,
                     workspace: workspace)
        }
    }

    /// One parallel region per call: each worker takes a contiguous run of (image, group, tile, channel block)
    /// items, lowers the tile into its slab (once per tile), multiplies with a single-threaded sgemm straight
    /// into the output, and applies bias/residual/activation while the result is in cache.
    private func runTiled(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation, workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let inPlane = ax[0].input * ax[1].input * ax[2].input
        let outPlane = ax[0].output * ax[1].output * ax[2].output
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, depth = cinG * g.kernelVolume
        let plan = tiling(outPlane: outPlane, batch: batch)
        let tilesPerPlane = plan.tilesPerPlane, blocks = plan.channelBlocks, columns = plan.columns
        let items = batch * g.group * tilesPerPlane * blocks
        let workers = min(KernelThreads.workers, items)
        let pointwise = strategy == .pointwise
        let weights = self.weights, bias = self.bias
        let fuse = bias != nil || residual != nil || activation != .none
        Parallel.forWorkers(workers) { worker in
            let slab = workspace + worker * depth * columns
            var lowered = -1
            for item in (items * worker / workers)..<(items * (worker + 1) / workers) {
                let tile = item / blocks, block = item % blocks
                let image = tile / (g.group * tilesPerPlane), grp = (tile / tilesPerPlane) % g.group
                let first = (tile % tilesPerPlane) * columns, count = min(columns, outPlane - first)
                let ocFirst = coutG * block / blocks, ocCount = coutG * (block + 1) / blocks - ocFirst
                if count <= 0 || ocCount <= 0 { continue }
                let src = input + (image * g.inChannels + grp * cinG) * inPlane
                let offset = (image * g.outChannels + grp * coutG + ocFirst) * outPlane + first
                let a = weights + (grp * coutG + ocFirst) * depth
                if pointwise {
                    Gemm.singleThreaded(m: ocCount, n: count, k: depth, a: a, lda: depth, b: src + first,
                                        ldb: inPlane, c: output + offset, ldc: outPlane)
                } else {
                    if lowered != tile {
                        Im2col.lowerTile(ax, channels: cinG, input: src, first: first, count: count, columns: slab)
                        lowered = tile
                    }
                    Gemm.singleThreaded(m: ocCount, n: count, k: depth, a: a, lda: depth, b: slab, ldb: count,
                                        c: output + offset, ldc: outPlane)
                }
                if fuse {
                    for oc in 0..<ocCount {
                        OutputPass.applyPlane(
                            output + offset + oc * outPlane, count, bias?[grp * coutG + ocFirst + oc] ?? 0,
                            residual.map { $0 + offset + oc * outPlane }, activation)
                    }
                }
            }
        }
    }

    /// One input and one output channel per group: a direct sliding-window loop per plane, no lowering.
    private func runDepthwise(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation
    ) {
        let g = geometry
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input, outPlane = d.output * h.output * w.output
        let kVol = g.kernelVolume
        let weights = self.weights, bias = self.bias
        let wTaps = (0..<w.kernel).map { kw -> (offset: Int, first: Int, last: Int) in
            let offset = kw * w.dilation - w.padBegin
            let first = offset < 0 ? min(w.output, (-offset + w.stride - 1) / w.stride) : 0
            let last = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
            return (offset, min(first, last), last)
        }
        let planes = batch * g.outChannels
        Parallel.forRanges(planes, work: planes * outPlane * kVol) { range in
            for p in range {
                let channel = p % g.outChannels
                let src = input + p * inPlane, dst = output + p * outPlane
                let filter = weights + channel * kVol
                let b = bias?[channel] ?? 0
                for od in 0..<d.output {
                    let dt = d.validTaps(at: od)
                    for oh in 0..<h.output {
                        let ht = h.validTaps(at: oh)
                        let row = dst + (od * h.output + oh) * w.output
                        row.update(repeating: b, count: w.output)
                        for kd in dt.first..<dt.last {
                            let id = od * d.stride - d.padBegin + kd * d.dilation
                            for kh in ht.first..<ht.last {
                                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                                let line = src + (id * h.input + ih) * w.input
                                for kw in 0..<w.kernel {
                                    let weight = filter[(kd * h.kernel + kh) * w.kernel + kw]
                                    let tap = wTaps[kw]
                                    let shifted = line + tap.offset
                                    if w.stride == 1 {
                                        for ow in tap.first..<tap.last { row[ow] += weight * shifted[ow] }
                                    } else {
                                        for ow in tap.first..<tap.last { row[ow] += weight * shifted[ow * w.stride] }
                                    }
                                }
                            }
                        }
                    }
                }
                if residual != nil || activation != .none {
                    OutputPass.applyPlane(dst, outPlane, 0, residual.map { $0 + p * outPlane }, activation)
                }
            }
        }
    }
}

/// Lowering of a convolution's input to the column matrix [channels · kernelVolume, pixels] that sgemm
/// multiplies; taps falling in the padding read as 0.
enum Im2col {}

extension Im2col {
    /// Lowers only output pixels [first, first + count) (flat over D·H·W) into `columns`, row stride `count`.
    static func lowerTile(
        _ ax: [WindowAxis], channels: Int, input: UnsafePointer<Float>, first: Int, count: Int,
        columns: UnsafeMutablePointer<Float>
    ) {
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = d.input * h.input * w.input
        let kVol = d.kernel * h.kernel * w.kernel
        let startD = first / (h.output * w.output), startH = (first / w.output) % h.output, startW = first % w.output
        for row in 0..<(channels * kVol) {
            let c = row / kVol, tap = row % kVol
            let kd = tap / (h.kernel * w.kernel), kh = (tap / w.kernel) % h.kernel, kw = tap % w.kernel
            let plane = input + c * inPlane
            // Output columns whose tap lands inside the input along W: [owFirst, owLast).
            let offset = kw * w.dilation - w.padBegin
            var owFirst = offset < 0 ? min(w.output, (-offset + w.stride - 1) / w.stride) : 0
            let owLast = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
            owFirst = min(owFirst, owLast)
            var out = columns + row * count
            var od = startD, oh = startH, ow = startW, remaining = count
            while remaining > 0 {
                let length = min(remaining, w.output - ow)
                let id = od * d.stride - d.padBegin + kd * d.dilation
                let ih = oh * h.stride - h.padBegin + kh * h.dilation
                if id < 0 || id >= d.input || ih < 0 || ih >= h.input {
                    out.update(repeating: 0, count: length)
                } else {
                    let line = plane + (id * h.input + ih) * w.input + offset
                    let lo = max(ow, owFirst), hi = min(ow + length, owLast)
                    if lo >= hi {
                        out.update(repeating: 0, count: length)
                    } else {
                        if lo > ow { out.update(repeating: 0, count: lo - ow) }
                        let dest = out - ow
                        if w.stride == 1 {
                            (dest + lo).update(from: line + lo, count: hi - lo)
                        } else {
                            for i in lo..<hi { dest[i] = line[i * w.stride] }
                        }
                        if hi < ow + length { (dest + hi).update(repeating: 0, count: ow + length - hi) }
                    }
                }
                out += length
                remaining -= length
                ow = 0
                oh += 1
                if oh == h.output {
                    oh = 0
                    od += 1
                }
            }
        }
    }
}

/// The single pass over a conv's output that adds bias and residual and applies the activation.
enum OutputPass {
    static func apply(
        batch: Int, channels: Int, planeSize: Int, output: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: ConvActivation
    ) {
        if bias == nil && residual == nil && activation == .none { return }
        let planes = batch * channels
        Parallel.forRanges(planes, work: planes * planeSize) { range in
            for p in range {
                let b = bias?[p % channels] ?? 0
                let out = output + p * planeSize
                let res = residual.map { $0 + p * planeSize }
                applyPlane(out, planeSize, b, res, activation)
            }
        }
    }

    /// out[i] = act(out[i] + b + res[i]). Plain loops per activation, which LLVM vectorises; closures over
    /// SIMD types here were not specialised and cost half as much as the sgemm.
    static func applyPlane(
        _ out: UnsafeMutablePointer<Float>, _ count: Int, _ b: Float, _ res: UnsafePointer<Float>?,
        _ activation: ConvActivation
    ) {
        switch activation {
        case .none:
            if let res {
                for i in 0..<count { out[i] = out[i] + b + res[i] }
            } else if b != 0 {
                for i in 0..<count { out[i] += b }
            }
        case .relu:
            if let res {
                for i in 0..<count {
                    let v = out[i] + b + res[i]
                    out[i] = v > 0 ? v : 0
                }
            } else {
                for i in 0..<count {
                    let v = out[i] + b
                    out[i] = v > 0 ? v : 0
                }
            }
        case .clip(let low, let high):
            if let res {
                for i in 0..<count {
                    let v = out[i] + b + res[i]
                    out[i] = v < low ? low : (v > high ? high : v)
                }
            } else {
                for i in 0..<count {
                    let v = out[i] + b
                    out[i] = v < low ? low : (v > high ? high : v)
                }
            }
        default:
            for i in 0..<count {
                var v = out[i] + b
                if let res { v += res[i] }
                out[i] = activation.apply(v)
            }
        }
    }
}
