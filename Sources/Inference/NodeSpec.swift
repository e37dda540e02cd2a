// A graph as the importer hands it to the engine: named values, nodes with typed attributes, initializers.
// Format-neutral, so Inference knows nothing of protobuf.
import Tensor

/// One attribute value of a node.
public enum AttributeValue: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    /// Kinds the engine does not run (subgraphs, sparse tensors, type protos), kept to name them in errors.
    case unsupported(String)
}

/// One node: `inputs` holds "" for an omitted optional input.
public struct NodeSpec: Sendable {
    public var opType: String
    public var domain: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: AttributeValue]
    /// Opset version of the node's domain, which selects the operator's semantics.
    public var opset: Int

    public init(opType: String, domain: String = "", name: String, inputs: [String], outputs: [String],
                attributes: [String: AttributeValue] = [:], opset: Int) {
        self.opType = opType
        self.domain = domain
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.opset = opset
    }

    public func has(_ key: String) -> Bool { attributes[key] != nil }

    public func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        switch attributes[key] {
        case .int(let value): return value
        case nil:
            if let fallback { return fallback }
            throw OpError("missing required attribute '\(key)'")
        default: throw OpError("attribute '\(key)' is not an int")
        }
    }

    /// An int attribute that must lie in `range` (sizes, counts, extents: checked where parsed, so shape
    /// arithmetic on them cannot overflow).
    public func int(_ key: String, default fallback: Int? = nil, in range: ClosedRange<Int>) throws -> Int {
        let value = try int(key, default: fallback)
        guard range.contains(value) else { throw OpError("attribute '\(key)' is \(value), outside \(range)") }
        return value
    }

    /// A list-of-ints attribute whose values must lie in `range`.
    public func ints(_ key: String, in range: ClosedRange<Int>) throws -> [Int]? {
        guard let values = try ints(key) else { return nil }
        guard values.allSatisfy(range.contains) else {
            throw OpError("attribute '\(key)' is \(values); each value must lie in \(range)")
        }
        return values
    }

    public func float(_ key: String, default fallback: Float? = nil) throws -> Float {
        switch attributes[key] {
        case .float(let value): return value
        case .int(let value): return Float(value)
        case nil:
            if let fallback { return fallback }
            throw OpError("missing required attribute '\(key)'")
        default: throw OpError("attribute '\(key)' is not a float")
        }
    }

    public func string(_ key: String, default fallback: String? = nil) throws -> String {
        switch attributes[key] {
        case .string(let value): return value
        case nil:
            if let fallback { return fallback }
            throw OpError("missing required attribute '\(key)'")
        default: throw OpError("attribute '\(key)' is not a string")
        }
    }

    public func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case .ints(let value): return value
        case .int(let value): return [value]
        case nil: return nil
        default: throw OpError("attribute '\(key)' is not a list of ints")
        }
    }

    public func floats(_ key: String) throws -> [Float]? {
        switch attributes[key] {
        case .floats(let value): return value
        case .float(let value): return [value]
        case nil: return nil
        default: throw OpError("attribute '\(key)' is not a list of floats")
        }
    }

    public func strings(_ key: String) throws -> [String]? {
        switch attributes[key] {
        case .strings(let value): return value
        case nil: return nil
        default: throw OpError("attribute '\(key)' is not a list of strings")
        }
    }

    public func tensor(_ key: String) throws -> Tensor? {
        switch attributes[key] {
        case .tensor(let value): return value
        case nil: return nil
        default: throw OpError("attribute '\(key)' is not a tensor")
        }
    }
}

/// A declared graph input or output.
public struct ValueSpec: Sendable {
    public var name: String
    public var dtype: DType?
    /// nil entries are symbolic dimensions (`dim_param`) or unknown ones.
    public var shape: [Int?]?
    public var symbolicNames: [String?]

    public init(name: String, dtype: DType?, shape: [Int?]?, symbolicNames: [String?] = []) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.symbolicNames = symbolicNames
    }
}

/// A whole graph ready for `Session` to compile.
public struct GraphSpec: Sendable {
    public var name: String
    public var inputs: [ValueSpec]
    public var outputs: [ValueSpec]
    public var initializers: [String: Tensor]
    public var nodes: [NodeSpec]

    public init(name: String, inputs: [ValueSpec], outputs: [ValueSpec], initializers: [String: Tensor],
                nodes: [NodeSpec]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.initializers = initializers
        self.nodes = nodes
    }
}
