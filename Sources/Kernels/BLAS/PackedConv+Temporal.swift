// PackedConv's temporal strategy (k×1×1 kernels, as in R(2+1)D): one sgemm per tap over input planes read in
// place, no lowering.
import ParallelLoops

extension PackedConv {
    /// k×1×1 kernels: output[:, od] = Σ_tap W_tap · input[:, od·stride − pad + tap·dilation], each term one
    /// sgemm over whole H·W planes read in place (rows of B are input channels, `inPlane` apart). Work items
    /// are runs of output frames (× channel blocks when there are few), one parallel region per call.
    func runTemporal(
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
        let blocks = channelBlocks(tiles: tiles)
        let items = tiles * blocks
        let (inPlace, residual) = Self.separate(residual, from: output)
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
}
