// PackedConv's pointwise and lowered strategies: tiles of output pixels, each lowered (im2col) into a
// worker's slab unless the kernel is 1×1, multiplied with one single-threaded sgemm.
import ParallelLoops

extension PackedConv {
    /// One parallel region per call: each worker takes a contiguous run of (image, group, tile, channel block)
    /// items, lowers the tile into its slab (once per tile), multiplies with a single-threaded sgemm straight
    /// into the output, and applies bias/residual/activation while the result is in cache.
    func runTiled(
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
        let (inPlace, residual) = Self.separate(residual, from: output)
        let beta: Float = inPlace ? 1 : 0
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
}
