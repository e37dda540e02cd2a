// ONNX Unsqueeze: inserts unit axes at the given output positions (attribute before opset 13, input after).
import Tensor

public final class UnsqueezeOp: Operator {
    let attributeAxes: [Int]?
    public init(_ node: NodeSpec) throws { attributeAxes = try node.ints("axes") }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        let requested = try attributeAxes ?? constants.constant(1, "axes").integers
        let rank = x.shape.count + requested.count
        let axes = Set(try requested.map { try normaliseAxis($0, rank: rank) })
        guard axes.count == requested.count else { throw OpError("repeated axes \(requested)") }
        var shape: [Int] = []
        var source = x.shape.makeIterator()
        for axis in 0..<rank { shape.append(axes.contains(axis) ? 1 : source.next()!) }
        return [ValueType(x.dtype, shape)]
    }

    public var outputAliasesInput: Bool { true }
    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        copyUnlessAliased(inputs[0]!, outputs[0])
    }
}
