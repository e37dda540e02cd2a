// A tiny protobuf writer that builds ONNX models in tests (valid ones and deliberately broken ones), so the
// malformed-model tests need no Python and no checked-in binaries.
import Foundation

struct ProtoMessage {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func int(_ field: Int, _ value: Int) {
        varint(UInt64(field << 3))
        varint(UInt64(bitPattern: Int64(value)))
    }

    mutating func bytes(_ field: Int, _ payload: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func string(_ field: Int, _ text: String) { bytes(field, Array(text.utf8)) }
    mutating func message(_ field: Int, _ inner: ProtoMessage) { bytes(field, inner.bytes) }
}

enum ModelWriter {
    static func valueInfo(_ name: String, shape: [Int]) -> ProtoMessage {
        var dims = ProtoMessage()
        for dim in shape {
            var d = ProtoMessage()
            d.int(1, dim)
            dims.message(1, d)
        }
        var tensorType = ProtoMessage()
        tensorType.int(1, 1)  // FLOAT
        tensorType.message(2, dims)
        var type = ProtoMessage()
        type.message(1, tensorType)
        var info = ProtoMessage()
        info.string(1, name)
        info.message(2, type)
        return info
    }

    static func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String) -> ProtoMessage {
        var node = ProtoMessage()
        for input in inputs { node.string(1, input) }
        for output in outputs { node.string(2, output) }
        node.string(3, name)
        node.string(4, op)
        return node
    }

    static func floatTensor(_ name: String, shape: [Int], values: [Float]) -> ProtoMessage {
        var tensor = ProtoMessage()
        for dim in shape { tensor.int(1, dim) }
        tensor.int(2, 1)
        tensor.string(8, name)
        tensor.bytes(9, values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } })
        return tensor
    }

    /// A model: graph inputs/outputs of the given shapes, nodes, initializers, default-domain opset.
    static func model(nodes: [ProtoMessage], inputs: [(String, [Int])], outputs: [(String, [Int])],
                      initializers: [ProtoMessage] = [], opset: Int = 17) -> Data {
        var graph = ProtoMessage()
        for node in nodes { graph.message(1, node) }
        graph.string(2, "test")
        for initializer in initializers { graph.message(5, initializer) }
        for (name, shape) in inputs { graph.message(11, valueInfo(name, shape: shape)) }
        for (name, shape) in outputs { graph.message(12, valueInfo(name, shape: shape)) }
        var opsetId = ProtoMessage()
        opsetId.string(1, "")
        opsetId.int(2, opset)
        var model = ProtoMessage()
        model.int(1, 8)
        model.string(2, "actiond-tests")
        model.message(7, graph)
        model.message(8, opsetId)
        return Data(model.bytes)
    }
}
