// PackedConv's framewise strategy (3D kernels with a temporal extent): each input frame lowered in 2D once
// and reused by every output frame whose window covers it.
import ParallelLoops

extension PackedConv {
    /// Lowered frames a framewise worker keeps: every input frame one output frame's window spans.
    var frameRing: Int { (geometry.kernel[0] - 1) * geometry.dilations[0] + 1 }

    /// Output pixels of one frame per framewise tile (same width rules as `tiling`).
    func frameTileColumns(_ ax: [WindowAxis]) -> Int {
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
    func runFramewise(
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
        let blocks = channelBlocks(tiles: tiles)
        let items = tiles * blocks
        let used = min(workers, items)
        let (inPlace, residual) = Self.separate(residual, from: output)
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
}
