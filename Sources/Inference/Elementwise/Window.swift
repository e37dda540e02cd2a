// Attribute handling shared by the sliding-window ops (Conv, ConvTranspose, pools): kernel/strides/dilations
import Kernels
// defaults and auto_pad resolved to explicit pads once the input shape is known.

struct WindowAttributes {
    /// The largest kernel extent, stride, dilation or pad accepted (real models stay far below it).
    static let maxExtent = 1 << 16

    var kernel: [Int]?
    var strides: [Int]?
    var dilations: [Int]?
    var pads: [Int]?
    var autoPad: String

    init(_ node: NodeSpec) throws {
        kernel = try node.ints("kernel_shape")
        strides = try node.ints("strides")
        dilations = try node.ints("dilations")
        pads = try node.ints("pads")
        // Range-checked here so the window arithmetic in shape inference cannot overflow on a crafted file.
        for (name, values, lowest) in [("kernel_shape", kernel, 1), ("strides", strides, 1),
                                       ("dilations", dilations, 1), ("pads", pads, 0)] {
            guard let values else { continue }
            guard values.count <= 3 * 2, values.allSatisfy({ (lowest...Self.maxExtent).contains($0) }) else {
                throw OpError("\(name) \(values) out of range (each \(lowest)...\(Self.maxExtent), at most 3 " +
                    "spatial dims)")
            }
        }
        autoPad = try node.string("auto_pad", default: "NOTSET")
        guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else {
            throw OpError.unsupported("auto_pad \"\(autoPad)\"")
        }
    }

    /// Explicit (begin, end) pads for `input` spatial extents and a resolved kernel.
    func resolvedPads(input: [Int], kernel: [Int], strides: [Int], dilations: [Int]) throws -> ([Int], [Int]) {
        let rank = kernel.count
        switch autoPad {
        case "VALID":
            return (Array(repeating: 0, count: rank), Array(repeating: 0, count: rank))
        case "SAME_UPPER", "SAME_LOWER":
            var begin: [Int] = []
            var end: [Int] = []
            for i in 0..<rank {
                let output = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
                let small = total / 2
                begin.append(autoPad == "SAME_UPPER" ? small : total - small)
                end.append(autoPad == "SAME_UPPER" ? total - small : small)
            }
            return (begin, end)
        default:
            let given = pads ?? Array(repeating: 0, count: 2 * rank)
            guard given.count == 2 * rank else { throw OpError("\(given.count) pads for \(rank) spatial dims") }
            guard given.allSatisfy({ $0 >= 0 }) else { throw OpError("negative pads \(given)") }
            return (Array(given[..<rank]), Array(given[rank...]))
        }
    }

    func checked(_ values: [Int]?, rank: Int, name: String) throws -> [Int] {
        let result = values ?? Array(repeating: 1, count: rank)
        guard result.count == rank, result.allSatisfy({ $0 > 0 }) else {
            throw OpError("\(name) \(result) invalid for \(rank) spatial dims")
        }
        return result
    }
}

extension FusedActivation {
    /// The kernels' form of this activation; nil when the op applies it itself after the kernel (SiLU).
    var kernelActivation: ConvActivation? {
        switch self {
        case .silu: return nil
        case .relu: return .relu
        case .leakyRelu(let alpha): return .leakyRelu(alpha)
        case .clip(let low, let high): return .clip(low, high)
        case .sigmoid: return .sigmoid
        case .hardSwish: return .hardSwish
        }
    }
}
