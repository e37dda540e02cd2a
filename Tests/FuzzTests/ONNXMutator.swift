// Structured mutations of ONNX files: the protobuf is parsed into a field tree (with ONNX's message schema, so
// nested messages and packed integer lists are seen as such), one to three fields are changed the way a crafted
// or broken export would change them (sizes, attribute values, op types, data types, dropped or repeated
// inputs, nodes, initializers, short tensor data), and the tree is written back. Byte-level mutations mostly
// break the protobuf framing and are rejected early; these reach shape inference, folding and packing.
import FuzzSupport

indirect enum ProtoValue {
    case varint(UInt64)
    case fixed32(UInt32)
    case fixed64(UInt64)
    case bytes([UInt8])
    case message([ProtoField])
    case packed([UInt64])
}

struct ProtoField {
    var number: Int
    var value: ProtoValue
}

/// Which fields of each ONNX message are messages (and of which kind) or packed varint lists.
enum ONNXSchema: CaseIterable {
    case model, opset, graph, node, attribute, tensor, valueInfo, type, tensorType, shape, dim

    var children: [Int: ONNXSchema] {
        switch self {
        case .model: return [7: .graph, 8: .opset]
        case .graph: return [1: .node, 5: .tensor, 11: .valueInfo, 12: .valueInfo, 13: .valueInfo]
        case .node: return [5: .attribute]
        case .attribute: return [5: .tensor, 6: .graph]
        case .valueInfo: return [2: .type]
        case .type: return [1: .tensorType]
        case .tensorType: return [2: .shape]
        case .shape: return [1: .dim]
        case .opset, .tensor, .dim: return [:]
        }
    }

    /// Length-delimited fields that hold packed varints.
    var packedFields: Set<Int> {
        switch self {
        case .tensor: return [1, 5, 7, 11]
        case .attribute: return [8]
        default: return []
        }
    }
}

enum ProtoTree {
    static func parse(_ bytes: ArraySlice<UInt8>, as schema: ONNXSchema) -> [ProtoField]? {
        var fields: [ProtoField] = []
        var position = bytes.startIndex
        func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while position < bytes.endIndex, shift < 64 {
                let byte = bytes[position]
                position += 1
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }
        /// A little-endian fixed-width field of `width` bytes (4 or 8).
        func fixed(_ width: Int) -> UInt64? {
            guard bytes.endIndex - position >= width else { return nil }
            var value: UInt64 = 0
            for k in 0..<width { value |= UInt64(bytes[position + k]) << (8 * UInt64(k)) }
            position += width
            return value
        }
        while position < bytes.endIndex {
            guard let key = varint() else { return nil }
            let number = Int(key >> 3)
            switch key & 7 {
            case 0:
                guard let value = varint() else { return nil }
                fields.append(ProtoField(number: number, value: .varint(value)))
            case 1:
                guard let value = fixed(8) else { return nil }
                fields.append(ProtoField(number: number, value: .fixed64(value)))
            case 5:
                guard let value = fixed(4) else { return nil }
                fields.append(ProtoField(number: number, value: .fixed32(UInt32(value))))
            case 2:
                guard let length = varint(), length <= UInt64(bytes.endIndex - position) else { return nil }
                let payload = bytes[position..<(position + Int(length))]
                position += Int(length)
                if let child = schema.children[number], let inner = parse(payload, as: child) {
                    fields.append(ProtoField(number: number, value: .message(inner)))
                } else if schema.packedFields.contains(number), let list = packedVarints(payload) {
                    fields.append(ProtoField(number: number, value: .packed(list)))
                } else {
                    fields.append(ProtoField(number: number, value: .bytes(Array(payload))))
                }
            default: return nil
            }
        }
        return fields
    }

    static func packedVarints(_ bytes: ArraySlice<UInt8>) -> [UInt64]? {
        var values: [UInt64] = []
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            guard shift < 64 else { return nil }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                values.append(result)
                result = 0
                shift = 0
            } else {
                shift += 7
            }
        }
        return shift == 0 ? values : nil
    }

    static func serialize(_ fields: [ProtoField]) -> [UInt8] {
        var out: [UInt8] = []
        func varint(_ value: UInt64) {
            var rest = value
            while rest >= 0x80 {
                out.append(UInt8(rest & 0x7F) | 0x80)
                rest >>= 7
            }
            out.append(UInt8(rest))
        }
        func delimited(_ number: Int, _ payload: [UInt8]) {
            varint(UInt64(number << 3 | 2))
            varint(UInt64(payload.count))
            out.append(contentsOf: payload)
        }
        for field in fields {
            switch field.value {
            case .varint(let value):
                varint(UInt64(field.number << 3))
                varint(value)
            case .fixed32(let value):
                varint(UInt64(field.number << 3 | 5))
                for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(k)))) }
            case .fixed64(let value):
                varint(UInt64(field.number << 3 | 1))
                for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
            case .bytes(let payload): delimited(field.number, payload)
            case .message(let inner): delimited(field.number, serialize(inner))
            case .packed(let values):
                var packed: [UInt8] = []
                for value in values {
                    var rest = value
                    while rest >= 0x80 {
                        packed.append(UInt8(rest & 0x7F) | 0x80)
                        rest >>= 7
                    }
                    packed.append(UInt8(rest))
                }
                delimited(field.number, packed)
            }
        }
        return out
    }
}

/// A place in the tree a mutation can touch: the path of field indices from the root, and what is there.
struct MutationSite {
    enum Kind { case varint, packed, fixed32, bytes, message }
    var path: [Int]
    var kind: Kind
    var schema: ONNXSchema   // the schema of the message that holds the field
    var number: Int
}

enum ONNXMutator {
    /// Op types the mutator swaps in: ones the engine implements, a few it does not, and nonsense.
    static let opTypes = [
        "Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gemm", "MatMul", "Reshape", "Transpose", "Concat",
        "Slice", "Gather", "Resize", "Expand", "Tile", "Range", "ConstantOfShape", "Split", "Squeeze",
        "Unsqueeze", "Flatten", "Pad", "Softmax", "LSTM", "GRU", "Where", "Cast", "ReduceMean", "ArgMax",
        "Div", "Pow", "Add", "Shape", "Identity", "Einsum", "Loop", "", "\u{0}",
    ]

    static func sites(_ fields: [ProtoField], schema: ONNXSchema, prefix: [Int] = [],
                      into sites: inout [MutationSite]) {
        for (index, field) in fields.enumerated() {
            let path = prefix + [index]
            switch field.value {
            case .varint: sites.append(MutationSite(path: path, kind: .varint, schema: schema, number: field.number))
            case .packed: sites.append(MutationSite(path: path, kind: .packed, schema: schema, number: field.number))
            case .fixed32: sites.append(MutationSite(path: path, kind: .fixed32, schema: schema, number: field.number))
            case .fixed64: break
            case .bytes: sites.append(MutationSite(path: path, kind: .bytes, schema: schema, number: field.number))
            case .message(let inner):
                sites.append(MutationSite(path: path, kind: .message, schema: schema, number: field.number))
                if let child = schema.children[field.number] {
                    self.sites(inner, schema: child, prefix: path, into: &sites)
                }
            }
        }
    }

    /// Applies `body` to the field list that holds the field at `path` (and the field's index in it).
    static func edit(_ fields: inout [ProtoField], path: ArraySlice<Int>, _ body: (inout [ProtoField], Int) -> Void) {
        guard let first = path.first else { return }
        if path.count == 1 {
            body(&fields, first)
            return
        }
        guard case .message(var inner) = fields[first].value else { return }
        edit(&inner, path: path.dropFirst(), body)
        fields[first].value = .message(inner)
    }

    static func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        guard var tree = ProtoTree.parse(bytes[...], as: .model) else {
            ByteMutation.apply(&bytes, using: &rng)
            return
        }
        var all: [MutationSite] = []
        sites(tree, schema: .model, into: &all)
        guard !all.isEmpty else { return }
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let site = all.randomElement(using: &rng)!
            edit(&tree, path: site.path[...]) { fields, index in
                mutateField(&fields, index, site: site, using: &rng)
            }
            // Sites after a deletion or insertion may be stale; recompute so paths stay valid.
            all.removeAll()
            sites(tree, schema: .model, into: &all)
            if all.isEmpty { break }
        }
        bytes = ProtoTree.serialize(tree)
    }

    static func interesting(_ rng: inout SplitMix64) -> UInt64 {
        if Bool.random(using: &rng) { return UInt64(bitPattern: interestingIntegers.randomElement(using: &rng)!) }
        return UInt64(bitPattern: Int64.random(in: -4...64, using: &rng))
    }

    static func mutateField(_ fields: inout [ProtoField], _ index: Int, site: MutationSite,
                            using rng: inout SplitMix64) {
        let roll = Int.random(in: 0..<10, using: &rng)
        // Structural edits apply to any field: drop it, or repeat it (a second graph input, node, dim, ...).
        if roll == 0 {
            fields.remove(at: index)
            return
        }
        if roll == 1 {
            fields.insert(fields[index], at: index)
            return
        }
        switch fields[index].value {
        case .varint:
            if site.schema == .tensor, site.number == 2 {
                fields[index].value = .varint(UInt64.random(in: 0...17, using: &rng))  // another data type
            } else {
                fields[index].value = .varint(interesting(&rng))
            }
        case .packed(var values):
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where !values.isEmpty: values.remove(at: Int.random(in: 0..<values.count, using: &rng))
            case 1: values.append(interesting(&rng))
            default:
                if values.isEmpty { values.append(interesting(&rng)) } else {
                    values[Int.random(in: 0..<values.count, using: &rng)] = interesting(&rng)
                }
            }
            fields[index].value = .packed(values)
        case .fixed32:
            let floats: [Float] = [.nan, .infinity, -.infinity, 0, -1, 1e30, -1e30, 1e-30, 0.5, 3e9]
            fields[index].value = .fixed32(floats.randomElement(using: &rng)!.bitPattern)
        case .bytes(var payload):
            if site.schema == .node, site.number == 4 {
                payload = Array(opTypes.randomElement(using: &rng)!.utf8)  // another op type
            } else if site.schema == .node, site.number == 1 || site.number == 2, Bool.random(using: &rng) {
                // Rewire: another value name of this node, or an omitted optional input.
                let names = fields.compactMap { field -> [UInt8]? in
                    guard field.number == 1 || field.number == 2, case .bytes(let name) = field.value else {
                        return nil
                    }
                    return name
                }
                payload = Bool.random(using: &rng) ? [] : (names.randomElement(using: &rng) ?? [])
            } else if site.schema == .tensor, site.number == 9 {
                // Tensor data shorter or longer than its shape says.
                if !payload.isEmpty, Bool.random(using: &rng) {
                    payload.removeLast(Int.random(in: 1...payload.count, using: &rng))
                } else {
                    payload += [UInt8](repeating: 0x41, count: Int.random(in: 1...16, using: &rng))
                }
            } else {
                ByteMutation.apply(&payload, using: &rng)
            }
            fields[index].value = .bytes(payload)
        case .message(var inner):
            // Drop or repeat one of its fields.
            guard !inner.isEmpty else { return }
            let at = Int.random(in: 0..<inner.count, using: &rng)
            if Bool.random(using: &rng) { inner.remove(at: at) } else { inner.insert(inner[at], at: at) }
            fields[index].value = .message(inner)
        case .fixed64:
            fields[index].value = .fixed64(UInt64.random(in: 0...UInt64.max, using: &rng))
        }
    }
}
