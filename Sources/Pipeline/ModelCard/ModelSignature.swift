// What an ONNX graph declares about its inputs and outputs (names, element types, shapes with symbolic dims),
// and the check of a model card against it. Pipeline does not import the engine: the Stages layer builds a
// ModelSignature from the ONNX loader and hands it here, so a card that lies about its graph fails at load.
import Foundation

/// One dimension of a declared tensor shape: a number, or a name such as `batch` the graph leaves open.
public enum TensorDim: Hashable, Sendable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    public var description: String {
        switch self {
        case let .fixed(value): return String(value)
        case let .symbolic(name): return name.isEmpty ? "?" : name
        }
    }

    var value: Int? {
        if case let .fixed(value) = self { return value }
        return nil
    }
}

/// A declared graph input or output.
public struct TensorSignature: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// ONNX element type name in lower case: `float32`, `float16`, `int64`, `uint8`, ...
    public var elementType: String
    public var shape: [TensorDim]

    public init(name: String, elementType: String, shape: [TensorDim]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    public var description: String { "`\(name)` \(elementType)[\(shape.map(\.description).joined(separator: ", "))]" }
}

/// The declared inputs and outputs of one ONNX graph.
public struct ModelSignature: Hashable, Sendable {
    public var inputs: [TensorSignature]
    public var outputs: [TensorSignature]

    public init(inputs: [TensorSignature], outputs: [TensorSignature]) {
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// Gives the signature of the ONNX graph at a path. The Stages layer implements it with the ONNX loader;
/// tests implement it with hand-built signatures.
public protocol ModelSignatureProvider {
    func signature(ofGraphAt path: String) throws -> ModelSignature
}

extension ModelCard {
    /// Checks the card against the signatures of its graphs (keyed by resolved .onnx path). Returns one
    /// diagnostic per disagreement, positioned at the card field that disagrees. Graphs missing from
    /// `signatures` are skipped.
    public func check(against signatures: [String: ModelSignature]) -> [ConfigDiagnostic] {
        var checker = SignatureChecker(card: self)
        for (role, path) in graphs {
            guard let signature = signatures[path] else { continue }
            checker.check(role: role, path: path, signature: signature)
        }
        return checker.diagnostics
    }

    /// Loads each graph's signature through `provider` and checks the card against them. A graph that fails to
    /// load is reported at the card's field naming it.
    public func check(with provider: ModelSignatureProvider) -> [ConfigDiagnostic] {
        var signatures: [String: ModelSignature] = [:]
        var failures: [ConfigDiagnostic] = []
        for (role, path) in graphs {
            do {
                signatures[path] = try provider.signature(ofGraphAt: path)
            } catch {
                let key = role == .main ? "onnx" : "\(role.rawValue).onnx"
                let at = locations[key] ?? ConfigLocation(file: self.path, line: 1, column: 1)
                failures.append(ConfigDiagnostic(at: at, "cannot load graph \(path): \(error)"))
            }
        }
        return failures + check(against: signatures)
    }
}

private struct SignatureChecker {
    let card: ModelCard
    var diagnostics: [ConfigDiagnostic] = []

    init(card: ModelCard) { self.card = card }

    mutating func error(_ message: String, at key: String) {
        let at = card.locations[key] ?? card.locations[String(key.split(separator: ".").first ?? "")]
            ?? ConfigLocation(file: card.path, line: 1, column: 1)
        diagnostics.append(ConfigDiagnostic(at: at, message))
    }

    /// The tensor a card field names, or the only one when it names none.
    mutating func pick(_ tensors: [TensorSignature], name: String?, what: String, field: String, path: String)
        -> TensorSignature? {
        let file = (path as NSString).lastPathComponent
        if let name {
            if let tensor = tensors.first(where: { $0.name == name }) { return tensor }
            error("graph \(file) has no \(what) named `\(name)`; its \(what)s are "
                  + tensors.map { "`\($0.name)`" }.joined(separator: ", "), at: field)
            return nil
        }
        if tensors.count == 1 { return tensors[0] }
        let names = tensors.map { "`\($0.name)`" }.joined(separator: ", ")
        error("graph \(file) has \(tensors.count) \(what)s (\(names)); name the one to use with `\(field)`",
              at: field.split(separator: ".").first.map(String.init) ?? field)
        return nil
    }

    /// Compares one declared dim with what the card implies; symbolic dims accept anything.
    mutating func expect(_ tensor: TensorSignature, axis: Int, equals expected: Int, meaning: String, field: String,
                         file: String) {
        guard axis < tensor.shape.count, let actual = tensor.shape[axis].value, actual != expected else { return }
        error("graph \(file) input \(tensor.description): \(meaning) is \(actual), but the card implies \(expected)",
              at: field)
    }

    mutating func check(role: GraphRole, path: String, signature: ModelSignature) {
        let file = (path as NSString).lastPathComponent
        switch role {
        case .main:
            if let input = pick(signature.inputs, name: card.input.name, what: "input", field: "input.name",
                                path: path) {
                checkImageInput(input, layout: card.input.layout, channels: 3, file: file)
            }
            if card.encoder == nil {
                checkOutput(signature, name: card.output.name, field: "output.name", path: path)
            }
        case .flow:
            guard let flow = card.flow else { return }
            if let input = pick(signature.inputs, name: flow.input, what: "input", field: "flow.input", path: path) {
                checkImageInput(input, layout: .nchw, channels: 2 * flow.stack, file: file, channelField: "flow.stack")
            }
            checkOutput(signature, name: card.output.name, field: "output.name", path: path)
        case .encoder:
            if let input = pick(signature.inputs, name: card.input.name, what: "input", field: "input.name",
                                path: path) {
                checkImageInput(input, layout: .nchw, channels: 3, file: file)
            }
            _ = pick(signature.outputs, name: card.encoder?.output, what: "output", field: "encoder.output",
                     path: path)
        case .head:
            guard let input = pick(signature.inputs, name: card.head?.input, what: "input", field: "head.input",
                                   path: path) else { return }
            if input.shape.count != 3 {
                error("graph \(file) input \(input.description): a recurrent head takes [N, T, features] "
                      + "(3 dimensions), got \(input.shape.count)", at: "head.onnx")
            } else {
                expect(input, axis: 1, equals: card.input.frames, meaning: "T (frames)", field: "input.frames",
                       file: file)
            }
            checkOutput(signature, name: card.output.name, field: "output.name", path: path)
        }
    }

    /// The image/flow input: float32, rank of the layout, channels, frames and size where declared.
    mutating func checkImageInput(_ input: TensorSignature, layout: TensorLayout, channels: Int, file: String,
                                  channelField: String = "input.layout") {
        if input.elementType != "float32" {
            error("graph \(file) input \(input.description) is \(input.elementType), but actiond feeds float32 "
                  + "(normalised pixels); export the model with a float input",
                  at: channelField == "flow.stack" ? "flow.onnx" : "input")
        }
        guard input.shape.count == layout.rank else {
            error("graph \(file) input \(input.description) has \(input.shape.count) dimensions, but layout "
                  + "\(layout.rawValue) has \(layout.rank)",
                  at: channelField == "flow.stack" ? "flow.onnx" : "input.layout")
            return
        }
        for (axis, letter) in layout.axes.enumerated() {
            switch letter {
            case "C": expect(input, axis: axis, equals: channels, meaning: "C (channels)", field: channelField,
                             file: file)
            case "T": expect(input, axis: axis, equals: card.input.frames, meaning: "T (frames)",
                             field: "input.frames", file: file)
            case "H": expect(input, axis: axis, equals: card.input.size.height, meaning: "H (height)",
                             field: "input.size", file: file)
            case "W": expect(input, axis: axis, equals: card.input.size.width, meaning: "W (width)",
                             field: "input.size", file: file)
            default: break  // N: any batch size works, one clip at a time is fed
            }
        }
    }

    /// Score outputs: the last dim must equal the number of labels.
    mutating func checkOutput(_ signature: ModelSignature, name: String?, field: String, path: String) {
        guard let output = pick(signature.outputs, name: name, what: "output", field: field, path: path) else { return }
        guard card.output.kind.isScores, !card.labels.isEmpty else { return }
        let file = (path as NSString).lastPathComponent
        guard let last = output.shape.last else {
            error("graph \(file) output \(output.description) is a scalar, but `\(card.output.kind.rawValue)` "
                  + "needs one score per label", at: "output.kind")
            return
        }
        if let count = last.value, count != card.labels.count {
            error("graph \(file) output \(output.description) gives \(count) scores, but the labels file has "
                  + "\(card.labels.count) labels", at: "output.labels")
        }
    }
}
