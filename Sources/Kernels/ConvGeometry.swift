// Shapes of convolution, transposed convolution and pooling windows, and the activations a conv can fuse.
// Every kernel normalises 1D/2D geometry to 3D (leading dims of size 1) so one loop nest serves all ranks.
#if canImport(Glibc)
import Glibc
#endif

/// A convolution's static shape parameters, pads already explicit (auto_pad is resolved by the caller).
/// Weight layout is ONNX's: [outChannels, inChannels / group, k0, (k1, k2)].
public struct ConvGeometry: Hashable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var group: Int
    /// One entry per spatial dimension (1, 2 or 3), outermost first.
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]

    public init(
        inChannels: Int, outChannels: Int, group: Int = 1, kernel: [Int], strides: [Int]? = nil,
        dilations: [Int]? = nil, padsBegin: [Int]? = nil, padsEnd: [Int]? = nil
    ) {
        precondition((1...3).contains(kernel.count), "conv kernel rank must be 1, 2 or 3, got \(kernel.count)")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.group = group
        self.kernel = kernel
        self.strides = strides ?? Array(repeating: 1, count: kernel.count)
        self.dilations = dilations ?? Array(repeating: 1, count: kernel.count)
        self.padsBegin = padsBegin ?? Array(repeating: 0, count: kernel.count)
        self.padsEnd = padsEnd ?? Array(repeating: 0, count: kernel.count)
    }

    public var rank: Int { kernel.count }
    public var inChannelsPerGroup: Int { inChannels / group }
    public var outChannelsPerGroup: Int { outChannels / group }
    /// Taps of one filter over one input channel (k0 · k1 · k2).
    public var kernelVolume: Int { kernel.reduce(1, *) }

    /// Output extent per spatial dimension; a dimension with no complete window gives 0.
    public func outputSpatial(for inputSpatial: [Int]) -> [Int] {
        precondition(inputSpatial.count == rank, "conv input has \(inputSpatial.count) spatial dims, kernel \(rank)")
        return (0..<rank).map { i in
            let span = dilations[i] * (kernel[i] - 1) + 1
            let padded = inputSpatial[i] + padsBegin[i] + padsEnd[i]
            return padded < span ? 0 : (padded - span) / strides[i] + 1
        }
    }

    /// Weight floats: outChannels · inChannels/group · kernelVolume.
    public var weightCount: Int { outChannels * inChannelsPerGroup * kernelVolume }
}

/// The activation fused into a conv's output pass: output = act(conv + bias + residual).
public enum ConvActivation: Hashable, Sendable {
    case none
    case relu
    case leakyRelu(Float)
    case clip(Float, Float)
    case sigmoid
    /// x · clamp(x / 6 + 1/2, 0, 1), as ONNX HardSwish.
    case hardSwish

    @inlinable
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return x > 0 ? x : 0
        case .leakyRelu(let alpha): return x >= 0 ? x : alpha * x
        case .clip(let low, let high): return min(max(x, low), high)
        case .sigmoid: return 1 / (1 + expf(-x))
        case .hardSwish: return x * min(max(x / 6 + 0.5, 0), 1)
        }
    }
}

/// A transposed convolution's shape parameters, pads and output padding explicit (ONNX `output_shape`
/// is resolved to pads by the caller). Weight layout is ONNX's: [inChannels, outChannels / group, k0, (k1, k2)].
public struct ConvTransposeGeometry: Hashable, Sendable {
    public var inChannels: Int
    public var outChannels: Int
    public var group: Int
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    public var outputPadding: [Int]

    public init(
        inChannels: Int, outChannels: Int, group: Int = 1, kernel: [Int], strides: [Int]? = nil,
        dilations: [Int]? = nil, padsBegin: [Int]? = nil, padsEnd: [Int]? = nil, outputPadding: [Int]? = nil
    ) {
        precondition((1...3).contains(kernel.count), "conv-transpose kernel rank must be 1, 2 or 3")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.group = group
        self.kernel = kernel
        self.strides = strides ?? Array(repeating: 1, count: kernel.count)
        self.dilations = dilations ?? Array(repeating: 1, count: kernel.count)
        self.padsBegin = padsBegin ?? Array(repeating: 0, count: kernel.count)
        self.padsEnd = padsEnd ?? Array(repeating: 0, count: kernel.count)
        self.outputPadding = outputPadding ?? Array(repeating: 0, count: kernel.count)
    }

    public var rank: Int { kernel.count }
    public var inChannelsPerGroup: Int { inChannels / group }
    public var outChannelsPerGroup: Int { outChannels / group }
    public var kernelVolume: Int { kernel.reduce(1, *) }
    public var weightCount: Int { inChannels * outChannelsPerGroup * kernelVolume }

    /// stride · (in − 1) + outputPadding + dilation · (k − 1) + 1 − padsBegin − padsEnd, per dimension.
    public func outputSpatial(for inputSpatial: [Int]) -> [Int] {
        precondition(inputSpatial.count == rank, "conv-transpose input has \(inputSpatial.count) spatial dims")
        return (0..<rank).map { i in
            let full = strides[i] * (inputSpatial[i] - 1) + outputPadding[i] + dilations[i] * (kernel[i] - 1) + 1
            return max(0, full - padsBegin[i] - padsEnd[i])
        }
    }
}

/// A pooling window's shape parameters, pads explicit.
public struct PoolGeometry: Hashable, Sendable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    public var ceilMode: Bool

    public init(
        kernel: [Int], strides: [Int]? = nil, dilations: [Int]? = nil, padsBegin: [Int]? = nil,
        padsEnd: [Int]? = nil, ceilMode: Bool = false
    ) {
        precondition((1...3).contains(kernel.count), "pool kernel rank must be 1, 2 or 3, got \(kernel.count)")
        self.kernel = kernel
        self.strides = strides ?? Array(repeating: 1, count: kernel.count)
        self.dilations = dilations ?? Array(repeating: 1, count: kernel.count)
        self.padsBegin = padsBegin ?? Array(repeating: 0, count: kernel.count)
        self.padsEnd = padsEnd ?? Array(repeating: 0, count: kernel.count)
        self.ceilMode = ceilMode
    }

    public var rank: Int { kernel.count }

    /// Floor (or ceil) of (in + pads − dilation·(k−1) − 1) / stride + 1. With ceilMode a last window that
    /// would start inside the end padding is dropped, as PyTorch and the ONNX spec (opset 19 wording) do.
    public func outputSpatial(for inputSpatial: [Int]) -> [Int] {
        precondition(inputSpatial.count == rank, "pool input has \(inputSpatial.count) spatial dims, kernel \(rank)")
        return (0..<rank).map { i in
            let span = dilations[i] * (kernel[i] - 1) + 1
            let room = inputSpatial[i] + padsBegin[i] + padsEnd[i] - span
            if room < 0 { return 0 }
            var count = (ceilMode ? (room + strides[i] - 1) / strides[i] : room / strides[i]) + 1
            if ceilMode && (count - 1) * strides[i] >= inputSpatial[i] + padsBegin[i] { count -= 1 }
            return count
        }
    }
}

/// One spatial dimension of a sliding window, after rank normalisation.
@usableFromInline
struct WindowAxis: Sendable {
    @usableFromInline var input: Int
    @usableFromInline var output: Int
    @usableFromInline var kernel: Int
    @usableFromInline var stride: Int
    @usableFromInline var dilation: Int
    @usableFromInline var padBegin: Int
    @usableFromInline var padEnd: Int

    @usableFromInline
    init(input: Int, output: Int, kernel: Int, stride: Int, dilation: Int, padBegin: Int, padEnd: Int) {
        self.input = input
        self.output = output
        self.kernel = kernel
        self.stride = stride
        self.dilation = dilation
        self.padBegin = padBegin
        self.padEnd = padEnd
    }

    /// The identity axis used to lift 1D/2D problems to 3D.
    static let unit = WindowAxis(input: 1, output: 1, kernel: 1, stride: 1, dilation: 1, padBegin: 0, padEnd: 0)

    /// Taps k in [first, last) whose input coordinate `o·stride − padBegin + k·dilation` lies in [0, input).
    @inline(__always)
    func validTaps(at o: Int) -> (first: Int, last: Int) {
        let start = o * stride - padBegin
        var first = 0
        if start < 0 { first = (-start + dilation - 1) / dilation }
        var last = kernel
        let limit = input - start  // need k·dilation < limit
        if limit <= 0 { return (0, 0) }
        last = min(kernel, (limit + dilation - 1) / dilation)
        return (min(first, last), last)
    }
}

/// Lifts per-dimension arrays of rank 1–3 to exactly three axes (D, H, W), padding the front with unit axes.
func windowAxes(
    input: [Int], output: [Int], kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int]
) -> [WindowAxis] {
    let rank = kernel.count
    var axes = Array(repeating: WindowAxis.unit, count: 3 - rank)
    for i in 0..<rank {
        axes.append(WindowAxis(
            input: input[i], output: output[i], kernel: kernel[i], stride: strides[i], dilation: dilations[i],
            padBegin: padsBegin[i], padEnd: padsEnd[i]))
    }
    return axes
}

extension ConvGeometry {
    func axes(inputSpatial: [Int]) -> [WindowAxis] {
        windowAxes(
            input: inputSpatial, output: outputSpatial(for: inputSpatial), kernel: kernel, strides: strides,
            dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd)
    }
}

extension PoolGeometry {
    func axes(inputSpatial: [Int]) -> [WindowAxis] {
        windowAxes(
            input: inputSpatial, output: outputSpatial(for: inputSpatial), kernel: kernel, strides: strides,
            dilations: dilations, padsBegin: padsBegin, padsEnd: padsEnd)
    }
}
