// Decodes ONNX protobuf messages (ModelProto, GraphProto, NodeProto, TensorProto, AttributeProto,
// ValueInfoProto) into the engine's format-neutral GraphSpec. Field numbers follow onnx/onnx.proto.
import Inference
import Tensor

/// A decoded model: metadata plus the main graph.
public struct ONNXModel: Sendable {
    public var irVersion: Int
    public var producer: String
    /// Opset version per domain ("" is the default ONNX domain).
    public var opsets: [String: Int]
    public var graph: GraphSpec

    /// Opset versions of the default domain this engine implements.
    public static let supportedOpsets = 6...22
}

/// ONNX TensorProto.DataType values the decoder understands.
enum ONNXDataType: Int {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    /// The engine dtype values of this type are stored as (narrow integer constants widen to int32/int64).
    var engineType: DType? {
        switch self {
        case .float, .float16, .double, .bfloat16: return .float32
        case .int64, .uint32, .uint64: return .int64
        case .int32, .int8, .uint8, .int16, .uint16: return .int32
        case .bool: return .bool
        case .string: return nil
        }
    }

    static func name(_ code: Int) -> String {
        guard let type = ONNXDataType(rawValue: code) else { return "data type \(code)" }
        return "\(type)"
    }
}

struct ONNXDecoder {
    var modelPath: String?
    /// Told the byte range of each raw tensor payload once it has been copied (lets a mapped file drop pages).
    var consumed: ((Range<Int>) -> Void)?

    func malformed(_ error: ProtobufError) -> ModelError {
        ModelError(.malformed, "not a valid ONNX model (\(error.description))", model: modelPath)
    }

    func decodeModel(_ bytes: UnsafeRawBufferPointer) throws -> ONNXModel {
        var reader = ProtobufReader(bytes)
        var irVersion = 0
        var producer = ""
        var opsets: [String: Int] = [:]
        var graphRange: Range<Int>?
        do {
            while let (number, wire) = try reader.field() {
                switch (number, wire) {
                case (1, .varint): irVersion = Int(try reader.int64(wire))
                case (2, .lengthDelimited): producer = try reader.string()
                case (7, .lengthDelimited): graphRange = try reader.lengthDelimited()
                case (8, .lengthDelimited):
                    var opset = reader.nested(try reader.lengthDelimited())
                    var domain = ""
                    var version = 0
                    while let (field, type) = try opset.field() {
                        switch (field, type) {
                        case (1, .lengthDelimited): domain = try opset.string()
                        case (2, .varint): version = Int(try opset.int64(type))
                        default: try opset.skip(type)
                        }
                    }
                    opsets[domain == "ai.onnx" ? "" : domain] = version
                default: try reader.skip(wire)
                }
            }
        } catch let error as ProtobufError {
            throw malformed(error)
        }
        guard let graphRange else {
            throw ModelError(.malformed, "not an ONNX model: no graph (is this an .onnx file?)", model: modelPath)
        }
        guard irVersion >= 3 else {
            throw ModelError(.malformed, "not an ONNX model: ir_version \(irVersion)", model: modelPath)
        }
        guard let opset = opsets[""] else {
            throw ModelError(.malformed, "the model imports no default-domain opset", model: modelPath)
        }
        guard ONNXModel.supportedOpsets.contains(opset) else {
            throw ModelError(.unsupported, "opset \(opset) is outside the supported range " +
                "\(ONNXModel.supportedOpsets.lowerBound)–\(ONNXModel.supportedOpsets.upperBound)", model: modelPath)
        }
        let graph: GraphSpec
        do {
            graph = try decodeGraph(reader.nested(graphRange), opsets: opsets)
        } catch let error as ProtobufError {
            throw malformed(error)
        }
        return ONNXModel(irVersion: irVersion, producer: producer, opsets: opsets, graph: graph)
    }

    func decodeGraph(_ message: ProtobufReader, opsets: [String: Int]) throws -> GraphSpec {
        var reader = message
        var name = ""
        var nodes: [NodeSpec] = []
        var initializers: [String: Tensor] = [:]
        var inputs: [ValueSpec] = []
        var outputs: [ValueSpec] = []
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): nodes.append(try decodeNode(reader.nested(try reader.lengthDelimited()),
                                                                     index: nodes.count, opsets: opsets))
            case (2, .lengthDelimited): name = try reader.string()
            case (5, .lengthDelimited):
                let (tensorName, tensor) = try decodeTensor(reader.nested(try reader.lengthDelimited()))
                initializers[tensorName] = tensor
            case (11, .lengthDelimited): inputs.append(try decodeValueInfo(reader.nested(try reader.lengthDelimited())))
            case (12, .lengthDelimited):
                outputs.append(try decodeValueInfo(reader.nested(try reader.lengthDelimited())))
            case (15, .lengthDelimited):
                throw ModelError(.unsupported, "sparse initializers are not supported", model: modelPath)
            default: try reader.skip(wire)
            }
        }
        return GraphSpec(name: name, inputs: inputs, outputs: outputs, initializers: initializers, nodes: nodes)
    }

    func decodeNode(_ message: ProtobufReader, index: Int, opsets: [String: Int]) throws -> NodeSpec {
        var reader = message
        var inputs: [String] = []
        var outputs: [String] = []
        var name = ""
        var opType = ""
        var domain = ""
        var attributes: [String: AttributeValue] = [:]
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): inputs.append(try reader.string())
            case (2, .lengthDelimited): outputs.append(try reader.string())
            case (3, .lengthDelimited): name = try reader.string()
            case (4, .lengthDelimited): opType = try reader.string()
            case (7, .lengthDelimited): domain = try reader.string()
            case (5, .lengthDelimited):
                let (key, value) = try decodeAttribute(reader.nested(try reader.lengthDelimited()))
                attributes[key] = value
            default: try reader.skip(wire)
            }
        }
        if domain == "ai.onnx" { domain = "" }
        if name.isEmpty { name = "\(opType)_\(index)" }
        let opset = opsets[domain] ?? opsets[""] ?? 0
        return NodeSpec(opType: opType, domain: domain, name: name, inputs: inputs, outputs: outputs,
                        attributes: attributes, opset: opset)
    }

    func decodeAttribute(_ message: ProtobufReader) throws -> (String, AttributeValue) {
        var reader = message
        var name = ""
        var type = 0
        var f: Float?
        var i: Int64?
        var s: String?
        var t: Tensor?
        var floats: [Float] = []
        var ints: [Int64] = []
        var strings: [String] = []
        var other: String?
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): name = try reader.string()
            case (20, .varint): type = Int(try reader.int64(wire))
            case (2, .fixed32): f = Float(bitPattern: try reader.fixed32())
            case (3, .varint): i = try reader.int64(wire)
            case (4, .lengthDelimited): s = try reader.string()
            case (5, .lengthDelimited): t = try decodeTensor(reader.nested(try reader.lengthDelimited())).1
            case (7, _): try reader.appendFloats(wire, to: &floats)
            case (8, _): try reader.appendVarints(wire, to: &ints)
            case (9, .lengthDelimited): strings.append(try reader.string())
            case (6, _), (11, _): other = "subgraph"; try reader.skip(wire)
            case (10, _): other = "tensor list"; try reader.skip(wire)
            case (22, _), (23, _): other = "sparse tensor"; try reader.skip(wire)
            case (14, _), (15, _): other = "type proto"; try reader.skip(wire)
            default: try reader.skip(wire)
            }
        }
        let value: AttributeValue
        switch type {
        case 1: value = .float(f ?? 0)
        case 2: value = .int(Int(i ?? 0))
        case 3: value = .string(s ?? "")
        case 4:
            guard let t else { throw ProtobufError(offset: reader.position, reason: "tensor attribute without tensor") }
            value = .tensor(t)
        case 6: value = .floats(floats)
        case 7: value = .ints(ints.map { Int($0) })
        case 8: value = .strings(strings)
        default:
            // Old exporters leave `type` unset; infer it from the field that is present.
            if let f { value = .float(f) } else if let i { value = .int(Int(i)) } else if let s { value = .string(s) }
            else if let t { value = .tensor(t) } else if !ints.isEmpty { value = .ints(ints.map { Int($0) }) }
            else if !floats.isEmpty { value = .floats(floats) } else if !strings.isEmpty { value = .strings(strings) }
            else { value = .unsupported(other ?? "attribute type \(type)") }
        }
        return (name, value)
    }

    func decodeValueInfo(_ message: ProtobufReader) throws -> ValueSpec {
        var reader = message
        var name = ""
        var dtype: DType?
        var shape: [Int?]?
        var symbols: [String?] = []
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, .lengthDelimited): name = try reader.string()
            case (2, .lengthDelimited):
                var type = reader.nested(try reader.lengthDelimited())
                while let (field, kind) = try type.field() {
                    guard field == 1, kind == .lengthDelimited else { try type.skip(kind); continue }
                    var tensorType = type.nested(try type.lengthDelimited())
                    while let (tensorField, tensorKind) = try tensorType.field() {
                        switch (tensorField, tensorKind) {
                        case (1, .varint):
                            dtype = ONNXDataType(rawValue: Int(try tensorType.int64(tensorKind)))?.engineType
                        case (2, .lengthDelimited):
                            var dims = tensorType.nested(try tensorType.lengthDelimited())
                            var parsed: [Int?] = []
                            while let (dimField, dimKind) = try dims.field() {
                                guard dimField == 1, dimKind == .lengthDelimited else {
                                    try dims.skip(dimKind)
                                    continue
                                }
                                var dim = dims.nested(try dims.lengthDelimited())
                                var value: Int?
                                var symbol: String?
                                while let (f, k) = try dim.field() {
                                    switch (f, k) {
                                    case (1, .varint): value = Int(try dim.int64(k))
                                    case (2, .lengthDelimited): symbol = try dim.string()
                                    default: try dim.skip(k)
                                    }
                                }
                                parsed.append(value.flatMap { $0 > 0 ? $0 : nil })
                                symbols.append(symbol)
                            }
                            shape = parsed
                        default: try tensorType.skip(tensorKind)
                        }
                    }
                }
            default: try reader.skip(wire)
            }
        }
        return ValueSpec(name: name, dtype: dtype, shape: shape, symbolicNames: symbols)
    }

    func decodeTensor(_ message: ProtobufReader) throws -> (String, Tensor) {
        var reader = message
        var dims: [Int64] = []
        var dataType = 0
        var name = ""
        var raw: Range<Int>?
        var floats: [Float] = []
        var int32s: [Int64] = []
        var int64s: [Int64] = []
        var doubles: [Double] = []
        var uint64s: [Int64] = []
        var external = false
        while let (number, wire) = try reader.field() {
            switch (number, wire) {
            case (1, _): try reader.appendVarints(wire, to: &dims)
            case (2, .varint): dataType = Int(try reader.int64(wire))
            case (4, _): try reader.appendFloats(wire, to: &floats)
            case (5, _): try reader.appendVarints(wire, to: &int32s)
            case (7, _): try reader.appendVarints(wire, to: &int64s)
            case (8, .lengthDelimited): name = try reader.string()
            case (9, .lengthDelimited): raw = try reader.lengthDelimited()
            case (10, _): try reader.appendDoubles(wire, to: &doubles)
            case (11, _): try reader.appendVarints(wire, to: &uint64s)
            case (13, .lengthDelimited): external = true; _ = try reader.lengthDelimited()
            case (14, .varint): if try reader.int64(wire) == 1 { external = true }
            default: try reader.skip(wire)
            }
        }
        let label = name.isEmpty ? "a tensor" : "tensor '\(name)'"
        if external {
            throw ModelError(.unsupported, "\(label) uses external data; re-export the model with weights " +
                "embedded (onnx.save(model, path, save_as_external_data=False))", model: modelPath)
        }
        guard let type = ONNXDataType(rawValue: dataType), let dtype = type.engineType else {
            throw ModelError(.unsupported, "\(label) has unsupported \(ONNXDataType.name(dataType))", model: modelPath)
        }
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw ModelError(.malformed, "\(label) has a negative dimension \(dims)", model: modelPath)
        }
        let shape = dims.map { Int($0) }
        // The data must be in the file, so a tensor is never larger than a small multiple of the file (narrow
        // types widen to 4 bytes); a crafted shape is caught here, before anything is allocated.
        guard let count = checkedElementCount(shape) else {
            throw ModelError(.malformed, "\(label) has shape \(shape), whose element count overflows",
                             model: modelPath)
        }
        func mismatch(_ have: Int) -> ModelError {
            ModelError(.malformed, "\(label) of shape \(shape) holds \(have) values", model: modelPath)
        }
        let width: Int
        switch type {
        case .float, .int32, .uint32: width = 4
        case .int64, .uint64, .double: width = 8
        case .float16, .bfloat16, .int16, .uint16: width = 2
        case .int8, .uint8, .bool: width = 1
        case .string: width = 0
        }
        let stored: Int
        if let raw {
            stored = raw.count / max(width, 1)
            let expected = count.multipliedReportingOverflow(by: width)
            guard !expected.overflow, raw.count == expected.partialValue else { throw mismatch(stored) }
        } else {
            switch type {
            case .float: stored = floats.count
            case .double: stored = doubles.count
            case .int64: stored = int64s.count
            case .uint32, .uint64: stored = uint64s.count
            default: stored = int32s.count
            }
            guard stored == count else { throw mismatch(stored) }
        }
        var tensor = Tensor(zeros: shape, dtype: dtype)
        let out = tensor.mutableRawPointer()
        if let raw {
            let bytes = UnsafeRawBufferPointer(rebasing: reader.bytes[raw])
            switch type {
            case .float, .int64, .int32: out.copyMemory(from: bytes.baseAddress!, byteCount: count * width)
            case .bool:
                for i in 0..<count { out.storeBytes(of: bytes[i] != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self) }
            case .double:
                let f = out.assumingMemoryBound(to: Float.self)
                for i in 0..<count { f[i] = Float(bytes.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            case .float16:
                let f = out.assumingMemoryBound(to: Float.self)
                for i in 0..<count {
                    f[i] = Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                }
            case .bfloat16:
                let f = out.assumingMemoryBound(to: Float.self)
                for i in 0..<count {
                    let bits = UInt32(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16
                    f[i] = Float(bitPattern: bits)
                }
            case .int8, .uint8, .int16, .uint16:
                let o = out.assumingMemoryBound(to: Int32.self)
                for i in 0..<count {
                    switch type {
                    case .int8: o[i] = Int32(Int8(bitPattern: bytes[i]))
                    case .uint8: o[i] = Int32(bytes[i])
                    case .int16: o[i] = Int32(bytes.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))
                    default: o[i] = Int32(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
                    }
                }
            case .uint32:
                let o = out.assumingMemoryBound(to: Int64.self)
                for i in 0..<count { o[i] = Int64(bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            case .uint64:
                let o = out.assumingMemoryBound(to: Int64.self)
                for i in 0..<count {
                    o[i] = Int64(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                }
            case .string: break
            }
            consumed?(raw)
            return (name, tensor)
        }
        switch type {
        case .float:
            out.assumingMemoryBound(to: Float.self).update(from: floats, count: count)
        case .double:
            for i in 0..<count { out.assumingMemoryBound(to: Float.self)[i] = Float(doubles[i]) }
        case .float16, .bfloat16:
            for i in 0..<count {
                let bits = UInt16(truncatingIfNeeded: int32s[i])
                out.assumingMemoryBound(to: Float.self)[i] = type == .float16 ? Float(Float16(bitPattern: bits))
                    : Float(bitPattern: UInt32(bits) << 16)
            }
        case .int64:
            out.assumingMemoryBound(to: Int64.self).update(from: int64s, count: count)
        case .uint32, .uint64:
            out.assumingMemoryBound(to: Int64.self).update(from: uint64s, count: count)
        case .int32, .int8, .uint8, .int16, .uint16:
            for i in 0..<count { out.assumingMemoryBound(to: Int32.self)[i] = Int32(truncatingIfNeeded: int32s[i]) }
        case .bool:
            for i in 0..<count { out.storeBytes(of: int32s[i] != 0 ? 1 : 0, toByteOffset: i, as: UInt8.self) }
        case .string: break
        }
        return (name, tensor)
    }
}
