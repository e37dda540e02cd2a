// Load-time fusion hooks: ops that can absorb the op after them (BatchNormalization, activations, a
// residual Add into a convolution) adopt these protocols; the session's fusion pass rewires the graph.

/// Activations a convolution can apply to its output in the same pass.
public enum FusedActivation: Hashable, Sendable {
    case relu
    case leakyRelu(Float)
    case clip(Float, Float)
    case sigmoid
    case hardSwish
    /// x · sigmoid(x) (SiLU / Swish), from a Sigmoid and a Mul that both read the convolution's output.
    case silu
}

/// An elementwise op that a preceding convolution can apply itself.
public protocol FusableActivation: Operator {
    var fusedActivation: FusedActivation? { get }
}

/// A BatchNormalization whose statistics are constants: y = x · scale[c] + shift[c].
public protocol ChannelAffine: Operator {
    var channelScaleShift: (scale: [Float], shift: [Float])? { get }
}

/// An op (a convolution) that can fold a per-channel affine transform, a residual addition and an activation
/// into its own output. Each `absorb` returns false when it cannot (then nothing changed).
public protocol OutputFusing: Operator {
    func absorbChannelAffine(scale: [Float], shift: [Float]) -> Bool
    func absorbResidual() -> Bool
    func absorbActivation(_ activation: FusedActivation) -> Bool
    var hasResidual: Bool { get }
    var hasActivation: Bool { get }
}
