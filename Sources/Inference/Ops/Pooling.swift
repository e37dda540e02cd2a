// ONNX MaxPool and AveragePool 1D/2D/3D (pads, strides, dilations, ceil_mode, auto_pad, count_include_pad,
// MaxPool's Indices output with storage_order 0 or 1), on the Kernels pooling loops.
import Kernels
import Tensor

public final class PoolOp: Operator {
    public enum Kind: Sendable { case max, average }
    let kind: Kind
    let window: WindowAttributes
    let ceilMode: Bool
    let countIncludePad: Bool
    let columnMajorIndices: Bool
    var geometry: PoolGeometry?
    var planes = 0
    var inputSpatial: [Int] = []

    public init(_ node: NodeSpec, kind: Kind) throws {
        self.kind = kind
        window = try WindowAttributes(node)
        guard window.kernel != nil else { throw OpError("missing required attribute 'kernel_shape'") }
        ceilMode = try node.int("ceil_mode", default: 0) != 0
        countIncludePad = try node.int("count_include_pad", default: 0) != 0
        columnMajorIndices = try node.int("storage_order", default: 0) != 0
        if kind == .average, window.dilations.map({ $0.contains { $0 != 1 } }) == true {
            throw OpError.unsupported("dilated AveragePool")
        }
    }

    public func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType] {
        let x = try inputs.required(0)
        try requireFloat(x)
        let kernel = window.kernel!
        let rank = kernel.count
        guard (1...3).contains(rank), x.shape.count == rank + 2 else {
            throw OpError.unsupported("kernel \(kernel) on input \(x.shape) (1-3 spatial dims)")
        }
        let strides = try window.checked(window.strides, rank: rank, name: "strides")
        let dilations = try window.checked(window.dilations, rank: rank, name: "dilations")
        inputSpatial = Array(x.shape[2...])
        let (begin, end) = try window.resolvedPads(input: inputSpatial, kernel: kernel, strides: strides,
                                                   dilations: dilations)
        let g = PoolGeometry(kernel: kernel, strides: strides, dilations: dilations, padsBegin: begin,
                             padsEnd: end, ceilMode: ceilMode)
        geometry = g
        planes = x.shape[0] * x.shape[1]
        let outShape = Array(x.shape[..<2]) + g.outputSpatial(for: inputSpatial)
        return [ValueType(.float32, outShape), ValueType(.int64, outShape)]
    }

    public func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer) {
        let x = inputs[0]!.floats
        let y = outputs[0].floats
        switch kind {
        case .average:
            Pooling.averagePool(geometry!, countIncludePad: countIncludePad, planes: planes, inputSpatial: inputSpatial,
                                input: x, output: y)
        case .max:
            let indices = outputs.count > 1 ? outputs[1].int64s : nil
            Pooling.maxPool(geometry!, planes: planes, inputSpatial: inputSpatial, input: x, output: y,
                            indices: indices)
            if let indices, columnMajorIndices {
                // Re-express each in-plane offset with the spatial axes in reverse order (column-major).
                let plane = inputSpatial.reduce(1, *)
                let rowStrides = contiguousStrides(inputSpatial)
                var columnStrides = [Int](repeating: 1, count: inputSpatial.count)
                for axis in 1..<max(inputSpatial.count, 1) {
                    columnStrides[axis] = columnStrides[axis - 1] * inputSpatial[axis - 1]
                }
                for i in 0..<outputs[1].count where indices[i] >= 0 {
                    let flat = Int(indices[i])
                    var offset = flat % plane
                    var column = 0
                    for axis in 0..<inputSpatial.count {
                        column += offset / rowStrides[axis] * columnStrides[axis]
                        offset %= rowStrides[axis]
                    }
                    indices[i] = Int64(flat - flat % plane + column)
                }
            }
        }
    }
}
