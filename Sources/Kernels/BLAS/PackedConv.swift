// The fast convolution: weights packed once at model load, then per call sgemms on OpenBLAS (on a lowered
// input where needed) and one fused output pass (bias + residual + activation).
import ParallelLoops

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
    private let weights: UnsafeMutablePointer<Float>
    private let bias: UnsafeMutablePointer<Float>?
    private let strategy: Strategy

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
        // A residual that is the output buffer itself is accumulated by the sgemm (beta = 1) instead.
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        let residual = inPlace ? nil : residual, beta: Float = inPlace ? 1 : 0
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
                                        ldb: inPlane, beta: beta, c: output + offset, ldc: outPlane)
                } else {
                    if lowered != tile {
                        Im2col.lowerTile(ax, channels: cinG, input: src, first: first, count: count, columns: slab)
                        lowered = tile
                    }
                    Gemm.singleThreaded(m: ocCount, n: count, k: depth, a: a, lda: depth, b: slab, ldb: count,
                                        beta: beta, c: output + offset, ldc: outPlane)
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

    /// k×1×1 kernels: output[:, od] = Σ_tap W_tap · input[:, od·stride − pad + tap·dilation], each term one
    /// sgemm over whole H·W planes read in place (rows of B are input channels, `inPlane` apart). Work items
    /// are runs of output frames (× channel blocks when there are few), one parallel region per call.
    private func runTemporal(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation
    ) {
        let g = geometry, d = ax[0]
        let frame = ax[1].output * ax[2].output  // H·W, the same in input and output
        let inPlane = d.input * frame, outPlane = d.output * frame
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, taps = d.kernel
        let framesPerTile = max(1, min(d.output, 1024 / max(1, frame)))
        let tilesPerPlane = (d.output + framesPerTile - 1) / framesPerTile
        let tiles = batch * g.group * tilesPerPlane
        let workers = KernelThreads.workers
        let blocks = tiles < 2 * workers ? min((2 * workers + tiles - 1) / tiles, max(1, coutG / 16)) : 1
        let items = tiles * blocks
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        let residual = inPlace ? nil : residual
        let tapWeights = self.weights, bias = self.bias
        let fuse = bias != nil || residual != nil || activation != .none
        Parallel.forWorkers(min(workers, items)) { worker in
            let used = min(workers, items)
            for item in (items * worker / used)..<(items * (worker + 1) / used) {
                let tile = item / blocks, block = item % blocks
                let image = tile / (g.group * tilesPerPlane), grp = (tile / tilesPerPlane) % g.group
                let od0 = (tile % tilesPerPlane) * framesPerTile, od1 = min(d.output, od0 + framesPerTile)
                let ocFirst = coutG * block / blocks, ocCount = coutG * (block + 1) / blocks - ocFirst
                if ocCount <= 0 { continue }
                let src = input + (image * g.inChannels + grp * cinG) * inPlane
                let offset = (image * g.outChannels + grp * coutG + ocFirst) * outPlane + od0 * frame
                let dst = output + offset
                var accumulate = inPlace
                // Frames [od0, od1) whose tap lands inside the input: one sgemm when the stride is 1.
                func valid(_ tap: Int) -> Range<Int> {
                    var lo = od0, hi = od1
                    while lo < hi && lo * d.stride - d.padBegin + tap * d.dilation < 0 { lo += 1 }
                    while hi > lo && (hi - 1) * d.stride - d.padBegin + tap * d.dilation >= d.input { hi -= 1 }
                    return lo..<hi
                }
                // Start with a tap covering every frame of the tile (beta 0 then needs no zeroing).
                let order = (0..<taps).sorted { valid($0).count > valid($1).count }
                if !accumulate && valid(order[0]).count < od1 - od0 {
                    for oc in 0..<ocCount { (dst + oc * outPlane).update(repeating: 0, count: (od1 - od0) * frame) }
                    accumulate = true
                }
                for tap in order {
                    let frames = valid(tap)
                    if frames.isEmpty { continue }
                    let a = tapWeights + ((grp * taps + tap) * coutG + ocFirst) * cinG
                    let runs = d.stride == 1 ? [frames] : frames.map { $0..<($0 + 1) }
                    for run in runs {
                        let id = run.lowerBound * d.stride - d.padBegin + tap * d.dilation
                        Gemm.singleThreaded(
                            m: ocCount, n: run.count * frame, k: cinG, a: a, lda: cinG, b: src + id * frame,
                            ldb: inPlane, beta: accumulate ? 1 : 0, c: dst + (run.lowerBound - od0) * frame,
                            ldc: outPlane)
                    }
                    accumulate = true
                }
                if fuse {
                    for oc in 0..<ocCount {
                        OutputPass.applyPlane(
                            dst + oc * outPlane, (od1 - od0) * frame, bias?[grp * coutG + ocFirst + oc] ?? 0,
                            residual.map { $0 + offset + oc * outPlane }, activation)
                    }
                }
            }
        }
    }

    /// Lowered frames a framewise worker keeps: every input frame one output frame's window spans.
    private var frameRing: Int { (geometry.kernel[0] - 1) * geometry.dilations[0] + 1 }

    /// Output pixels of one frame per framewise tile (same width rules as `tiling`).
    private func frameTileColumns(_ ax: [WindowAxis]) -> Int {
        let frame = ax[1].output * ax[2].output
        let depth = geometry.inChannelsPerGroup * ax[1].kernel * ax[2].kernel
        let wide = max(Self.tileFloats / max(1, depth), Self.columnsPerOutputChannel * geometry.outChannelsPerGroup)
        let target = max(Self.minimumTileColumns, (wide + 15) & ~15)
        let tiles = max(1, (frame + target - 1) / target)
        return max(1, (frame + tiles - 1) / tiles)
    }

    /// 3D kernels kT×kH×kW with kT > 1: output[:, t] = Σ_tap W_tap · lower2D(input[:, t·s − p + tap·d]).
    /// A work item is (image, group, pixel tile of a frame, channel block) over all output frames in order; the
    /// worker keeps the 2D-lowered input frames of the current window in a ring of slabs, so each input frame
    /// is lowered once per item instead of once per output frame that reads it.
    private func runFramewise(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation, workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, d = ax[0]
        // The 2D problem of one frame: the unit axis in place of time.
        let frameAxes = [WindowAxis.unit, ax[1], ax[2]]
        let inFrame = ax[1].input * ax[2].input, outFrame = ax[1].output * ax[2].output
        let inPlane = d.input * inFrame, outPlane = d.output * outFrame
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, taps = d.kernel
        let depth = cinG * ax[1].kernel * ax[2].kernel
        let columns = frameTileColumns(ax), ring = frameRing
        let tilesPerFrame = (outFrame + columns - 1) / columns
        let tiles = batch * g.group * tilesPerFrame
        let workers = KernelThreads.workers
        let blocks = tiles < 2 * workers ? min((2 * workers + tiles - 1) / tiles, max(1, coutG / 16)) : 1
        let items = tiles * blocks
        let used = min(workers, items)
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        let residual = inPlace ? nil : residual
        let tapWeights = self.weights, bias = self.bias
        let fuse = bias != nil || residual != nil || activation != .none
        Parallel.forWorkers(used) { worker in
            let slabs = workspace + worker * ring * depth * columns
            for item in (items * worker / used)..<(items * (worker + 1) / used) {
                let tile = item / blocks, block = item % blocks
                let image = tile / (g.group * tilesPerFrame), grp = (tile / tilesPerFrame) % g.group
                let first = (tile % tilesPerFrame) * columns, count = min(columns, outFrame - first)
                let ocFirst = coutG * block / blocks, ocCount = coutG * (block + 1) / blocks - ocFirst
                if count <= 0 || ocCount <= 0 { continue }
                let src = input + (image * g.inChannels + grp * cinG) * inPlane
                var held = [Int](repeating: -1, count: ring)  // input frame lowered in each ring slot
                for od in 0..<d.output {
                    let offset = (image * g.outChannels + grp * coutG + ocFirst) * outPlane + od * outFrame + first
                    var accumulate = inPlace
                    for tap in 0..<taps {
                        let id = od * d.stride - d.padBegin + tap * d.dilation
                        if id < 0 || id >= d.input { continue }
                        let slot = id % ring, slab = slabs + slot * depth * count
                        if held[slot] != id {
                            Im2col.lowerTile(frameAxes, channels: cinG, input: src + id * inFrame, first: first,
                                             count: count, columns: slab, channelStride: inPlane)
                            held[slot] = id
                        }
                        let a = tapWeights + ((grp * taps + tap) * coutG + ocFirst) * depth
                        Gemm.singleThreaded(
                            m: ocCount, n: count, k: depth, a: a, lda: depth, b: slab, ldb: count,
                            beta: accumulate ? 1 : 0, c: output + offset, ldc: outPlane)
                        accumulate = true
                    }
                    if !accumulate {  // every tap of this frame falls in the padding
                        for oc in 0..<ocCount { (output + offset + oc * outPlane).update(repeating: 0, count: count) }
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
    }

    /// Output rows per rowwise tile (same width rules as `tiling`, counted in output pixels).
    private func rowTileRows(_ ax: [WindowAxis]) -> Int {
        let depth = geometry.inChannelsPerGroup * ax[2].kernel
        let wide = max(Self.tileFloats / max(1, depth), Self.columnsPerOutputChannel * geometry.outChannelsPerGroup,
                       Self.minimumTileColumns)
        let rows = min(ax[1].output, max(1, (wide + ax[2].output - 1) / max(1, ax[2].output)))
        let tiles = max(1, (ax[1].output + rows - 1) / max(1, rows))
        return max(1, (ax[1].output + tiles - 1) / tiles)
    }

    /// Output row oh, kernel row kh reads input row oh·s − padH + kh·dilH (s = stride along H). Writing
    /// kh·dilH = q·s + φ, that is row (oh + q)·s − padH + φ: for each phase φ a tile of output rows [oh0, oh1) of
    /// one frame lowers input rows (oh0 + t)·s − padH + φ, t = 0 ..< oh1 − oh0 + max q, along W only (slab rows =
    /// inC/group · kW, each holding those input rows back to back, W_out floats each; rows in the padding are
    /// zeros). Kernel row kh is then one sgemm with K = inC/group · kW over the phase-φ slab shifted by q rows,
    /// accumulating into the tile's output rows. Each input row is lowered once instead of kH/s times.
    private func runRowwise(
        _ ax: [WindowAxis], batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, activation: ConvActivation, workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inFrame = h.input * w.input, outFrame = h.output * w.output
        let inPlane = d.input * inFrame, outPlane = d.output * outFrame
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, kH = h.kernel, kW = w.kernel
        // Row stride s: kernel row kh reads input row (oh + q)·s − padH + φ with kh·dilH = q·s + φ, so the input
        // rows are lowered in s phases φ, and tap kh is the phase-φ slab shifted by q rows.
        let phases = h.stride
        let depth = cinG * kW, span = (kH - 1) * h.dilation / phases
        let usedPhase = (0..<phases).map { phase in (0..<kH).contains { $0 * h.dilation % phases == phase } }
        let rowsPerTile = rowTileRows(ax)
        let tilesPerFrame = (h.output + rowsPerTile - 1) / rowsPerTile
        let tiles = batch * g.group * d.output * tilesPerFrame
        let workers = KernelThreads.workers
        let blocks = tiles < 2 * workers ? min((2 * workers + tiles - 1) / tiles, max(1, coutG / 16)) : 1
        let items = tiles * blocks
        let used = min(workers, items)
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        let residual = inPlace ? nil : residual
        let weights = self.weights, bias = self.bias
        let fuse = bias != nil || residual != nil || activation != .none
        // Output columns whose tap kw lands inside the input row: [first, last), and the input offset.
        let wTaps = (0..<kW).map { kw -> (offset: Int, first: Int, last: Int) in
            let offset = kw * w.dilation - w.padBegin
            let first = offset < 0 ? min(w.output, (-offset + w.stride - 1) / w.stride) : 0
            let last = w.input - offset <= 0 ? 0 : min(w.output, (w.input - offset + w.stride - 1) / w.stride)
            return (offset, min(first, last), last)
        }
        Parallel.forWorkers(used) { worker in
            let slab = workspace + worker * depth * phases * (rowsPerTile + span) * w.output
            var lowered = -1
            for item in (items * worker / used)..<(items * (worker + 1) / used) {
                let tile = item / blocks, block = item % blocks
                let image = tile / (g.group * d.output * tilesPerFrame)
                let grp = (tile / (d.output * tilesPerFrame)) % g.group
                let od = (tile / tilesPerFrame) % d.output
                let oh0 = (tile % tilesPerFrame) * rowsPerTile, oh1 = min(h.output, oh0 + rowsPerTile)
                let ocFirst = coutG * block / blocks, ocCount = coutG * (block + 1) / blocks - ocFirst
                if oh1 <= oh0 || ocCount <= 0 { continue }
                let slabRows = oh1 - oh0 + span, rowLength = slabRows * w.output
                if lowered != tile {
                    let src = input + (image * g.inChannels + grp * cinG) * inPlane + od * d.stride * inFrame
                    for phase in 0..<phases where usedPhase[phase] {
                        for c in 0..<cinG {
                            for kw in 0..<kW {
                                let tap = wTaps[kw]
                                var out = slab + (phase * depth + c * kW + kw) * rowLength
                                for r in 0..<slabRows {
                                    let ih = (oh0 + r) * phases - h.padBegin + phase
                                    if ih < 0 || ih >= h.input || tap.first >= tap.last {
                                        out.update(repeating: 0, count: w.output)
                                    } else {
                                        let line = src + c * inPlane + ih * w.input + tap.offset
                                        for ow in 0..<tap.first { out[ow] = 0 }
                                        if w.stride == 1 {
                                            for ow in tap.first..<tap.last { out[ow] = line[ow] }
                                        } else if w.stride == 2 {
                                            for ow in tap.first..<tap.last { out[ow] = line[2 * ow] }
                                        } else {
                                            for ow in tap.first..<tap.last { out[ow] = line[ow * w.stride] }
                                        }
                                        for ow in tap.last..<w.output { out[ow] = 0 }
                                    }
                                    out += w.output
                                }
                            }
                        }
                    }
                    lowered = tile
                }
                let offset = (image * g.outChannels + grp * coutG + ocFirst) * outPlane + od * outFrame
                    + oh0 * w.output
                let count = (oh1 - oh0) * w.output
                for kh in 0..<kH {
                    let phase = kh * h.dilation % phases, shift = kh * h.dilation / phases
                    Gemm.singleThreaded(
                        m: ocCount, n: count, k: depth, a: weights + ((grp * kH + kh) * coutG + ocFirst) * depth,
                        lda: depth, b: slab + phase * depth * rowLength + shift * w.output, ldb: rowLength,
                        beta: inPlace || kh > 0 ? 1 : 0, c: output + offset, ldc: outPlane)
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
        let inPlace = residual.map { UnsafeRawPointer($0) == UnsafeRawPointer(output) } ?? false
        let residual = inPlace ? nil : residual
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
                        if inPlace {  // the row holds the residual: accumulate onto it
                            for ow in 0..<w.output { row[ow] += b }
                        } else {
                            row.update(repeating: b, count: w.output)
                        }
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
    /// `channelStride` is the distance between input channels (default: the plane the axes describe).
    static func lowerTile(
        _ ax: [WindowAxis], channels: Int, input: UnsafePointer<Float>, first: Int, count: Int,
        columns: UnsafeMutablePointer<Float>, channelStride: Int? = nil
    ) {
        let (d, h, w) = (ax[0], ax[1], ax[2])
        let inPlane = channelStride ?? d.input * h.input * w.input
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
                            if hi - lo >= 32 {
                                (dest + lo).update(from: line + lo, count: hi - lo)
                            } else {  // short rows (14×14, 7×7 maps): a call to memmove costs more than the copy
                                for i in lo..<hi { dest[i] = line[i] }
                            }
                        } else if w.stride == 2 {  // a constant stride lets LLVM vectorise the gather
                            for i in lo..<hi { dest[i] = line[2 * i] }
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
