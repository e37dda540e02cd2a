// PackedConv's rowwise strategy (2D kernels, or 1×kH×kW): input rows lowered along W once, kernel rows as
// sgemms over the same slab shifted by whole rows.
import ParallelLoops

extension PackedConv {
    /// Output rows per rowwise tile (same width rules as `tiling`, counted in output pixels).
    func rowTileRows(_ ax: [WindowAxis]) -> Int {
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
    func runRowwise(
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
        let blocks = channelBlocks(tiles: tiles)
        let items = tiles * blocks
        let used = min(workers, items)
        let (inPlace, residual) = Self.separate(residual, from: output)
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
}
