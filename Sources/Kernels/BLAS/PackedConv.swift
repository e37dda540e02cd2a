// The fast convolution: weights packed once at model load, then per call sgemms on OpenBLAS (on a lowered
// input where needed) and one fused output pass (bias + residual + activation).
// Each strategy's loop is in PackedConv+<Strategy>.swift, the lowering in Im2col.swift, the fused pass in
// OutputPass.swift.

/// A convolution whose weights are packed once; `run` is the fast path, tested against `ReferenceConv`.
/// Immutable after init, so one instance may serve concurrent `run` calls with distinct workspaces.
///
/// Six strategies, picked from the geometry:
/// - pointwise (1×1(×1), unit strides, no pads): the input already is the sgemm B operand; no lowering;
/// - depthwise (one input and one output channel per group): a direct loop per plane, no sgemm;
/// - temporal (k×1×1 kernels, as in R(2+1)D): a sum over the k taps of sgemms that read the input planes
///   shifted in time directly, accumulating into the output; no lowering;
/// - framewise (other 3D kernels with a temporal extent, e.g. 3×3×3): each input frame is lowered in 2D once
///   and reused by every output frame whose window covers it (3× less lowering for 3×3×3), one sgemm per
///   temporal tap accumulating into the output;
/// - rowwise (2D kernels, or 1×kH×kW): the input rows are lowered along W only, once (in `strideH` phases of
///   rows), and the kH kernel rows become kH sgemms over the same slab shifted by whole rows;
/// - lowered: im2col + sgemm on tiles. The output pixels are cut into tiles; each worker lowers one tile into
///   its own cache-sized slab of the workspace and multiplies it with a single-threaded sgemm straight into
///   the output, then applies bias/residual/activation while the tile is still in cache. The full column
///   matrix (for a 3×3×3 conv 27× the input) is never built, and a call has a single parallel region.
public final class PackedConv: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// Weights as [group][outChannels/group][inChannels/group · kernelVolume] (ONNX's layout is already the
    /// row-major A operand of the per-group sgemm, so packing is a copy that outlives the model's buffers);
    /// for `.temporal` and `.framewise` regrouped per temporal tap, for `.rowwise` per kernel row (see init).
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let strategy: Strategy

    enum Strategy { case pointwise, depthwise, temporal, framewise, rowwise, lowered }

    /// Target floats of one worker's column slab: about a quarter of a 2 MB L2, leaving room for OpenBLAS's
    /// packs. A tile is also at least twice as wide as the output channels: each sgemm call repacks its slice of
    /// the weights (M·K floats), which must stay small next to the lowered tile (K·N floats). Measured on the
    /// r3d_18 layers (CPU time, one thread): the second rule took layer3/layer4 from 29/13 ms to 18/11 ms.
    /// (Tests shrink these to force many tiles on small shapes.)
    nonisolated(unsafe) static var tileFloats = 1 << 17
    nonisolated(unsafe) static var minimumTileColumns = 64
    nonisolated(unsafe) static var columnsPerOutputChannel = 2

    public init(_ g: ConvGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
        precondition(g.group > 0 && g.inChannels % g.group == 0 && g.outChannels % g.group == 0,
                     "conv channels \(g.inChannels)→\(g.outChannels) not divisible by group \(g.group)")
        geometry = g
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
        } else if g.rank == 3 && g.kernel[1] == 1 && g.kernel[2] == 1 && g.strides[1] == 1 && g.strides[2] == 1
            && g.padsBegin[1...].allSatisfy({ $0 == 0 }) && g.padsEnd[1...].allSatisfy({ $0 == 0 }) {
            strategy = .temporal
        } else if g.rank == 3 && g.kernel[0] > 1 {
            strategy = .framewise
        } else if g.rank >= 2 && g.kernel[g.rank - 2] > 1
            && (g.rank == 2 || (g.kernel[0] == 1 && g.padsBegin[0] == 0 && g.padsEnd[0] == 0)) {
            strategy = .rowwise
        } else {
            strategy = .lowered
        }
        if strategy == .temporal || strategy == .framewise {
            // Per-temporal-tap weight matrices [group][tap][outC/group][inC/group · kH · kW], the A operands of
            // the per-tap sgemms.
            let taps = g.kernel[0], cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
            let area = g.kernelVolume / taps
            let matrices = UnsafeMutablePointer<Float>.allocate(capacity: max(1, g.weightCount))
            for grp in 0..<g.group {
                for tap in 0..<taps {
                    for oc in 0..<coutG {
                        for ic in 0..<cinG {
                            let from = weight + (((grp * coutG + oc) * cinG + ic) * taps + tap) * area
                            let to = matrices + (((grp * taps + tap) * coutG + oc) * cinG + ic) * area
                            to.update(from: from, count: area)
                        }
                    }
                }
            }
            weights = matrices
        } else if strategy == .rowwise {
            // Per-kernel-row weight matrices [group][kH][outC/group][inC/group · kW].
            let kH = g.kernel[g.rank - 2], kW = g.kernel[g.rank - 1]
            let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
            let matrices = UnsafeMutablePointer<Float>.allocate(capacity: max(1, g.weightCount))
            for grp in 0..<g.group {
                for kh in 0..<kH {
                    for oc in 0..<coutG {
                        for ic in 0..<cinG {
                            let from = weight + (((grp * coutG + oc) * cinG + ic) * kH + kh) * kW
                            let to = matrices + (((grp * kH + kh) * coutG + oc) * cinG + ic) * kW
                            to.update(from: from, count: kW)
                        }
                    }
                }
            }
            weights = matrices
        } else {
            weights = .allocate(capacity: max(1, g.weightCount))
            weights.update(from: weight, count: g.weightCount)
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
        let wide = max(Self.tileFloats / max(1, depth), Self.columnsPerOutputChannel * g.outChannelsPerGroup)
        let target = max(Self.minimumTileColumns, (wide + 15) & ~15)
        let tilesPerPlane = (outPlane + target - 1) / target
        let columns = (outPlane + tilesPerPlane - 1) / tilesPerPlane  // even tiles, none nearly empty
        let blocks = channelBlocks(tiles: batch * g.group * tilesPerPlane)
        return Tiling(columns: columns, tilesPerPlane: tilesPerPlane, channelBlocks: blocks)
    }

    /// Blocks each tile's output channels are split into: with fewer than two tiles per worker, enough blocks
    /// (of at least 16 channels) that every worker has work; otherwise 1.
    func channelBlocks(tiles: Int) -> Int {
        let workers = KernelThreads.workers
        guard tiles < 2 * workers else { return 1 }
        return min((2 * workers + tiles - 1) / tiles, max(1, geometry.outChannelsPerGroup / 16))
    }

    /// Whether `residual` is the output buffer itself (the kernel then accumulates onto the output instead of
    /// adding it again), and the residual left to add separately (nil when there is none or it is in place).
    static func separate(_ residual: UnsafePointer<Float>?, from output: UnsafeMutablePointer<Float>)
        -> (inPlace: Bool, residual: UnsafePointer<Float>?)
    {
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        return (inPlace, inPlace ? nil : residual)
    }

    /// Floats of scratch `run` needs for this input size (a column slab per worker; none for 1×1 or depthwise).
    public func workspaceCount(batch: Int, inputSpatial: [Int]) -> Int {
        switch strategy {
        case .pointwise, .depthwise, .temporal: return 0
        case .framewise:
            let ax = geometry.axes(inputSpatial: inputSpatial)
            let depth = geometry.inChannelsPerGroup * ax[1].kernel * ax[2].kernel
            return KernelThreads.maxWorkers * frameRing * depth * frameTileColumns(ax)
        case .rowwise:
            let ax = geometry.axes(inputSpatial: inputSpatial)
            let depth = geometry.inChannelsPerGroup * ax[2].kernel
            let h = ax[1]
            let rows = rowTileRows(ax) + (h.kernel - 1) * h.dilation / h.stride
            return KernelThreads.maxWorkers * depth * h.stride * rows * ax[2].output
        case .lowered:
            let outPlane = geometry.outputSpatial(for: inputSpatial).reduce(1, *)
            let depth = geometry.inChannelsPerGroup * geometry.kernelVolume
            return KernelThreads.maxWorkers * depth * tiling(outPlane: outPlane, batch: max(1, batch)).columns
        }
    }

    /// output = act(conv(input) + bias + residual). `residual` has the output's shape and may be the output
    /// buffer itself (accumulate in place); the input must not overlap the output.
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
        case .framewise:
            runFramewise(ax, batch: batch, input: input, output: output, residual: residual, activation: activation,
                         workspace: workspace)
        case .rowwise:
            runRowwise(ax, batch: batch, input: input, output: output, residual: residual, activation: activation,
                       workspace: workspace)
        case .temporal:
            runTemporal(ax, batch: batch, input: input, output: output, residual: residual, activation: activation)
        case .pointwise, .lowered:
            runTiled(ax, batch: batch, input: input, output: output, residual: residual, activation: activation,
                     workspace: workspace)
        }
    }
}
