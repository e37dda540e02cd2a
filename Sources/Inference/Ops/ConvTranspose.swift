// ONNX ConvTranspose 1D/2D/3D: strides, pads, dilations, groups, output_padding and output_shape (resolved
// to pads at load: total padding = stride·(in−1) + output_padding + (k−1)·dilation + 1 − output_shape).
import Kernels
import Tensor

public final class ConvTransposeOp: Operator {
    let window: WindowAttributes
    let group: Int
    let outputPadding: [Int]?
    let outputShape: [Int]?
    var packed: PackedConvTranspose?
    var geometry: ConvTransposeGeometry?
    /// The weight initializer, shared (not copied) until packed; BN folding copies it on write.
    var weight: Tensor?
    var bias: [Float]?
    var inputSpatial: [Int] = []
    var batch = 0
    public private(set) var flops: Double = 0
    public private(set) var workspaceBytes = 0

    public init(_ node: NodeSpec) throws {
        window = try WindowAttributes(node)
        group = try node.int("group", default: 1, in: 1...(1 << 20))
        outputPadding = try node.ints("output_padding", in: 0...WindowAttributes.maxExtent)
        outputShape = try node.ints("output_shape", in: 0...(1 << 30))
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let w = try inputs.required(1)
        try requireFloat(x)
        let rank = x.shape.count - 2
        guard (1...3).contains(rank), w.shape.count == rank + 2 else {
            throw OpError.unsupported("input \(x.shape) with weight \(w.shape) (1-3 spatial dims)")
        }
        let weights = try constants.constant(1, "weight")
        let inChannels = x.shape[1]
        guard w.shape[0] == inChannels, group > 0, inChannels % group == 0 else {
            throw OpError("weight \(w.shape) does not fit input \(x.shape) with group \(group)")
        }
        let outChannels = w.shape[1] * group
        let kernel = Array(w.shape[2...])
        let strides = try window.checked(window.strides, rank: rank, name: "strides")
        let dilations = try window.checked(window.dilations, rank: rank, name: "dilations")
        let extra = outputPadding ?? Array(repeating: 0, count: rank)
        guard extra.count == rank, (outputShape?.count ?? rank) >= rank else {
            throw OpError("output_padding \(extra) / output_shape \(outputShape ?? []) for \(rank) spatial dims")
        }
        inputSpatial = Array(x.shape[2...])
        var begin: [Int]
        var end: [Int]
        let same = window.autoPad == "SAME_UPPER" || window.autoPad == "SAME_LOWER"
        if outputShape != nil || same {
            // total padding = stride·(in−1) + output_padding + (k−1)·dilation + 1 − target; SAME_UPPER puts the
            // smaller half first, NOTSET and SAME_LOWER the larger (ONNX spec and ONNX Runtime).
            let target = outputShape.map { Array($0.suffix(rank)) } ?? (0..<rank).map { inputSpatial[$0] * strides[$0] }
            begin = []
            end = []
            for i in 0..<rank {
                let full = strides[i] * (inputSpatial[i] - 1) + extra[i] + (kernel[i] - 1) * dilations[i] + 1
                let total = full - target[i]
                guard total >= 0 || !same else { throw OpError("output_shape \(target) larger than the full output") }
                let small = total / 2
                begin.append(window.autoPad == "SAME_UPPER" ? small : total - small)
                end.append(window.autoPad == "SAME_UPPER" ? total - small : small)
            }
        } else {
            (begin, end) = try window.resolvedPads(input: inputSpatial, kernel: kernel, strides: strides,
                                                   dilations: dilations)
        }
        let g = ConvTransposeGeometry(inChannels: inChannels, outChannels: outChannels, group: group, kernel: kernel,
                                      strides: strides, dilations: dilations, padsBegin: begin, padsEnd: end,
                                      outputPadding: extra)
        geometry = g
        weight = weights
        if inputs.optional(2) != nil {
            let b = try constants.constant(2, "bias")
            guard b.count == outChannels, b.dtype == .float32 else {
                throw OpError("bias is \(b.dtype)\(b.shape); expected \(outChannels) float32 values")
            }
            bias = b.floats
        }
        batch = x.shape[0]
        let outSpatial = g.outputSpatial(for: inputSpatial)
        flops = 2 * Double(batch) * Double(inChannels) * inputSpatial.reduce(1.0) { $0 * Double($1) }
            * Double(g.outChannelsPerGroup * g.kernelVolume)
        return [ValueType(.float32, [batch, outChannels] + outSpatial)]
    }

    public func prepare() throws {
        guard packed == nil, let g = geometry else { return }
        guard let tensor = weight else { return }
        let w = tensor.rawPointer.assumingMemoryBound(to: Float.self)
        let pack = withOptionalPointer(to: bias) { PackedConvTranspose(g, weight: w, bias: $0) }
        packed = pack
        workspaceBytes = pack.workspaceCount(batch: batch, inputSpatial: inputSpatial) * 4
        weight = nil
    }

    /// Weights and bias live in the packed form after `prepare`; only X (and a fused residual) are read.
    public func readsConstantInput(_ index: Int) -> Bool { index == 0 || index >= 3 }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        packed!.run(batch: batch, inputSpatial: inputSpatial, input: inputs[0]!.floats, output: outputs[0].floats,
                    workspace: workspace.assumingMemoryBound(to: Float.self))
    }
}
