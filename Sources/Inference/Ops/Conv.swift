// ONNX Conv 1D/2D/3D: pads, strides, dilations, groups (incl. depthwise), auto_pad. Weights (and bias) must be
// constants: they are packed once by the Kernels PackedConv. A following BatchNormalization, residual Add and
// activation can be folded in at load (OutputFusing).
import Kernels
import Tensor

public final class ConvOp: Operator, OutputFusing {
    let window: WindowAttributes
    let group: Int
    var geometry: ConvGeometry?
    /// The weight initializer, shared (not copied) until packed; BN folding copies it on write.
    var weight: Tensor?
    var bias: [Float]?
    var inputSpatial: [Int] = []
    var batch = 0
    var packed: PackedConv?
    public private(set) var hasResidual = false
    var activation: FusedActivation?
    public private(set) var flops: Double = 0
    public private(set) var workspaceBytes = 0

    public init(_ node: NodeSpec) throws {
        window = try WindowAttributes(node)
        group = try node.int("group", default: 1, in: 1...(1 << 20))
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let w = try inputs.required(1)
        try requireFloat(x)
        try requireFloat(w, "weight")
        let rank = x.shape.count - 2
        guard (1...3).contains(rank), w.shape.count == rank + 2 else {
            throw OpError.unsupported("input \(x.shape) with weight \(w.shape) (1-3 spatial dims)")
        }
        let weights = try constants.constant(1, "weight")
        let inChannels = x.shape[1]
        let outChannels = w.shape[0]
        guard group > 0, inChannels % group == 0, outChannels % group == 0, w.shape[1] * group == inChannels else {
            throw OpError("weight \(w.shape) does not fit input \(x.shape) with group \(group)")
        }
        let kernel = Array(w.shape[2...])
        if let declared = window.kernel, declared != kernel {
            throw OpError("kernel_shape \(declared) differs from weight \(w.shape)")
        }
        let strides = try window.checked(window.strides, rank: rank, name: "strides")
        let dilations = try window.checked(window.dilations, rank: rank, name: "dilations")
        inputSpatial = Array(x.shape[2...])
        let (begin, end) = try window.resolvedPads(input: inputSpatial, kernel: kernel, strides: strides,
                                                   dilations: dilations)
        let g = ConvGeometry(inChannels: inChannels, outChannels: outChannels, group: group, kernel: kernel,
                             strides: strides, dilations: dilations, padsBegin: begin, padsEnd: end)
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
        guard outSpatial.allSatisfy({ $0 > 0 }) else { throw OpError("output would be empty: \(outSpatial)") }
        flops = 2 * Double(batch) * Double(outChannels) * outSpatial.reduce(1.0) { $0 * Double($1) }
            * Double(g.inChannelsPerGroup * g.kernelVolume)
        return [ValueType(.float32, [batch, outChannels] + outSpatial)]
    }

    public var hasActivation: Bool { activation != nil }

    public func absorbChannelAffine(scale: [Float], shift: [Float]) -> Bool {
        guard let g = geometry, scale.count == g.outChannels, packed == nil else { return false }
        guard var tensor = weight else { return false }
        let values = tensor.mutableRawPointer().assumingMemoryBound(to: Float.self)
        let perOutput = tensor.count / g.outChannels
        for oc in 0..<g.outChannels {
            for i in 0..<perOutput { values[oc * perOutput + i] *= scale[oc] }
        }
        weight = tensor
        bias = (0..<g.outChannels).map { (bias?[$0] ?? 0) * scale[$0] + shift[$0] }
        return true
    }

    public func absorbResidual() -> Bool {
        guard packed == nil, !hasResidual else { return false }
        hasResidual = true
        return true
    }

    public func absorbActivation(_ kind: FusedActivation) -> Bool {
        guard packed == nil, activation == nil else { return false }
        activation = kind
        return true
    }

    public func prepare() throws {
        guard packed == nil, let g = geometry else { return }
        guard let tensor = weight else { return }
        let w = tensor.rawPointer.assumingMemoryBound(to: Float.self)
        let pack = withOptionalPointer(to: bias) { PackedConv(g, weight: w, bias: $0) }
        packed = pack
        workspaceBytes = pack.workspaceCount(batch: batch, inputSpatial: inputSpatial) * 4
        weight = nil  // the packed copy is the one used from now on
    }

    /// Weights and bias live in the packed form after `prepare`; only X (and a fused residual) are read.
    public func readsConstantInput(_ index: Int) -> Bool { index == 0 || index >= 3 }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let residual = hasResidual ? UnsafePointer(inputs.last!!.floats) : nil
        packed!.run(batch: batch, inputSpatial: inputSpatial, input: inputs[0]!.floats, output: outputs[0].floats,
                    residual: residual, activation: activation?.kernelActivation ?? .none,
                    workspace: workspace.assumingMemoryBound(to: Float.self))
        if activation == .silu {
            // The kernels have no SiLU; one vectorised pass over the output while it is still warm.
            let y = outputs[0].floats
            for i in 0..<outputs[0].count { y[i] *= FastMath.sigmoid(y[i]) }
        }
    }
}

/// Calls `body` with a pointer to `values`' storage, or with nil when there are none (an optional bias).
func withOptionalPointer<R>(to values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
