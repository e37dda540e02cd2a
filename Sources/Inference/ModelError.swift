// The error every load- or run-time failure of a model surfaces as, with the context a user needs to act:
// which model file, which node, which op.

/// A model that cannot be loaded or run. `summary` is one line; `details` carry the context.
public struct ModelError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        case malformed       // the file is not a valid model (truncated, bad protobuf, cycle, missing tensor)
        case unsupported     // valid ONNX that this engine does not implement (op, attribute value, dtype)
        case invalid         // inconsistent shapes or attributes
        case badInput        // a run was given inputs that do not match the model's declared inputs
    }

    public var kind: Kind
    public var message: String
    public var model: String?
    public var node: String?
    public var op: String?

    public init(_ kind: Kind, _ message: String, model: String? = nil, node: String? = nil, op: String? = nil) {
        self.kind = kind
        self.message = message
        self.model = model
        self.node = node
        self.op = op
    }

    public var summary: String {
        var text = message
        if let op { text = "\(op): " + text }
        if let model { text = "\(model): " + text }
        return text
    }

    public var details: [String] {
        var lines: [String] = ["kind: \(kind.rawValue)"]
        if let node { lines.append("node: \(node.isEmpty ? "(unnamed)" : node)") }
        if let op { lines.append("op: \(op)") }
        if let model { lines.append("model: \(model)") }
        return lines
    }

    public var description: String { ([summary] + details).joined(separator: "\n  ") }

    /// The same error with `model` filled in if it was not set.
    public func inModel(_ path: String?) -> ModelError {
        var copy = self
        if copy.model == nil { copy.model = path }
        return copy
    }
}

/// Thrown by an op's attribute parsing or shape inference; the session wraps it into a `ModelError`
/// naming the node, the op and the model.
public struct OpError: Error, Sendable {
    public var kind: ModelError.Kind
    public var message: String
    public init(_ message: String, kind: ModelError.Kind = .invalid) {
        self.kind = kind
        self.message = message
    }

    public static func unsupported(_ message: String) -> OpError { OpError(message, kind: .unsupported) }
}
