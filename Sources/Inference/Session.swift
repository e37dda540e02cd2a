// Compiles a GraphSpec once — topological order, shape inference, constant folding, fusion, weight packing,
// buffer planning — and then runs it with no per-run allocation except the returned output tensors.
import Dispatch
import Kernels
import Tensor

/// How to turn a node into an op (the ONNX module's registry); throws for unsupported ops.
public typealias OperatorFactory = (NodeSpec) throws -> Operator

public struct SessionOptions: Sendable {
    /// Concrete shapes for inputs whose declared shape has symbolic dimensions. Symbolic dimensions not
    /// given here default to 1 (the batch dimension of most exports).
    public var inputShapes: [String: [Int]]
    /// The model file, named in errors.
    public var modelPath: String?
    /// Fold BatchNormalization, activations and residual adds into convolutions (off only for testing).
    public var fuse: Bool
    /// The largest single value (input, activation, folded constant) a model may declare or infer, in bytes.
    /// Shapes come from the file, so a crafted model could otherwise ask for any amount of memory.
    public var maxTensorBytes: Int
    /// The largest activation arena plus scratch workspace a model may need, in bytes.
    public var maxArenaBytes: Int

    public static let defaultMaxTensorBytes = 2 << 30
    public static let defaultMaxArenaBytes = 8 << 30

    public init(inputShapes: [String: [Int]] = [:], modelPath: String? = nil, fuse: Bool = true,
                maxTensorBytes: Int = SessionOptions.defaultMaxTensorBytes,
                maxArenaBytes: Int = SessionOptions.defaultMaxArenaBytes) {
        self.inputShapes = inputShapes
        self.modelPath = modelPath
        self.fuse = fuse
        self.maxTensorBytes = maxTensorBytes
        self.maxArenaBytes = maxArenaBytes
    }

    /// Throws unless a value of `type` has a countable shape that fits `maxTensorBytes`.
    func checkSize(_ type: ValueType, of value: String) throws {
        guard let count = checkedElementCount(type.shape) else {
            throw ModelError(.invalid, "value '\(value)' has shape \(type.shape), which has a negative dimension or " +
                "more elements than can be counted", model: modelPath)
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: type.dtype.byteSize)
        guard !overflow, bytes <= maxTensorBytes else {
            throw ModelError(.unsupported, "value '\(value)' of shape \(type.shape) would take " +
                "\(overflow ? "more than \(Int.max)" : "\(bytes)") bytes, over the limit of \(maxTensorBytes) bytes " +
                "for one tensor", model: modelPath)
        }
    }
}

/// One node that survives folding.
final class CompiledNode {
    let spec: NodeSpec
    let op: Operator
    var inputs: [Int?]
    var outputs: [Int]
    var inputRefs: [TensorRef?] = []
    var outputRefs: [TensorRef] = []

    init(spec: NodeSpec, op: Operator, inputs: [Int?], outputs: [Int]) {
        self.spec = spec
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A loaded model, ready to run. Not safe to run from two threads at once (it owns one set of buffers); give
/// each concurrent caller its own `replica()`, which shares the compiled operators and packed weights.
public final class Session: @unchecked Sendable {
    public struct Port: Sendable {
        public var name: String
        public var type: ValueType
    }

    public let inputs: [Port]
    public let outputs: [Port]
    /// Nodes in the source graph, nodes left after folding and fusion.
    public let sourceNodeCount: Int
    public var runtimeNodeCount: Int { nodes.count }
    /// Bytes of the activation arena (planned, shared by values whose lifetimes do not overlap).
    public let arenaBytes: Int
    /// Bytes the activations would take without reuse (for reports).
    public let unplannedBytes: Int
    /// The most bytes of activations alive at any one step: the least any plan could use.
    public let peakLiveBytes: Int
    /// Bytes of the shared scratch workspace (im2col tiles, recurrent gates, ...).
    public var workspaceBytes: Int { workspace.byteCount }
    /// Bytes of constants the runtime nodes read (weights after folding).
    public let constantBytes: Int
    public let flopsPerRun: Double
    /// Op types of the runtime nodes, in order (for inspection and tests).
    public var runtimeOpTypes: [String] { nodes.map { $0.spec.opType } }

    private var nodes: [CompiledNode]
    private let arena: TensorStorage
    private let workspace: TensorStorage
    private let constants: [Int: Tensor]
    private let inputRefs: [TensorRef]
    private let outputSources: [TensorRef]

    /// Compiles `graph`. Pass it with `consume` when the caller has no further use for it: the session then
    /// frees each weight initializer as soon as its packed copy exists, so weights are not held twice.
    public init(graph: consuming GraphSpec, makeOperator: OperatorFactory,
                options: SessionOptions = SessionOptions()) throws {
        let modelPath = options.modelPath
        func fail(_ kind: ModelError.Kind, _ message: String) -> ModelError {
            ModelError(kind, message, model: modelPath)
        }

        // Value table.
        var ids: [String: Int] = [:]
        var types: [ValueType?] = []
        var constantValues: [Int: Tensor] = [:]
        func define(_ name: String) -> Int {
            let id = types.count
            ids[name] = id
            types.append(nil)
            return id
        }
        for (name, tensor) in graph.initializers {
            let id = define(name)
            types[id] = ValueType(tensor.dtype, tensor.shape)
            constantValues[id] = tensor
        }
        let initializerNames = Set(graph.initializers.keys)
        graph.initializers = [:]  // constantValues is now the only owner of the weights (if the caller consumed)
        var inputPorts: [Port] = []
        var inputIds: [Int] = []
        for spec in graph.inputs where !initializerNames.contains(spec.name) {
            guard let dtype = spec.dtype else { throw fail(.unsupported, "input '\(spec.name)' has no tensor type") }
            guard let declared = spec.shape else {
                guard let given = options.inputShapes[spec.name] else {
                    throw fail(.unsupported, "input '\(spec.name)' has no declared shape; pass one explicitly")
                }
                try options.checkSize(ValueType(dtype, given), of: spec.name)
                let id = define(spec.name)
                types[id] = ValueType(dtype, given)
                inputPorts.append(Port(name: spec.name, type: types[id]!))
                inputIds.append(id)
                continue
            }
            var shape = declared.map { $0 ?? 1 }
            if let given = options.inputShapes[spec.name] {
                guard given.count == declared.count,
                      zip(given, declared).allSatisfy({ $1 == nil || $0 == $1 }) else {
                    throw fail(.badInput, "shape \(given) for input '\(spec.name)' does not match declared " +
                        "\(declared.map { $0.map(String.init) ?? "?" })")
                }
                shape = given
            }
            try options.checkSize(ValueType(dtype, shape), of: spec.name)
            let id = define(spec.name)
            types[id] = ValueType(dtype, shape)
            inputPorts.append(Port(name: spec.name, type: types[id]!))
            inputIds.append(id)
        }

        // Topological order (Kahn); nodes whose inputs never become available form a cycle or miss a value.
        var producerOf: [String: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                if producerOf[output] != nil || ids[output] != nil {
                    throw ModelError(.malformed, "value '\(output)' is defined more than once", model: modelPath,
                                     node: node.name, op: node.opType)
                }
                producerOf[output] = index
            }
        }
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs where !input.isEmpty && ids[input] == nil && producerOf[input] == nil {
                throw ModelError(.malformed, "input '\(input)' of node \(index) is neither a graph input, an " +
                    "initializer nor a node output (missing initializer?)", model: modelPath, node: node.name,
                    op: node.opType)
            }
        }
        var pending = graph.nodes.map { node in Set(node.inputs.filter { !$0.isEmpty && ids[$0] == nil }).count }
        var consumersOf: [String: [Int]] = [:]
        for (index, node) in graph.nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty && ids[input] == nil {
                consumersOf[input, default: []].append(index)
            }
        }
        var ready = (0..<graph.nodes.count).filter { pending[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        while let index = ready.popLast() {
            order.append(index)
            for output in graph.nodes[index].outputs where !output.isEmpty {
                for consumer in consumersOf[output] ?? [] {
                    pending[consumer] -= 1
                    if pending[consumer] == 0 { ready.append(consumer) }
                }
            }
        }
        if order.count != graph.nodes.count {
            let stuck = (0..<graph.nodes.count).filter { pending[$0] > 0 }.prefix(3).map {
                graph.nodes[$0].name.isEmpty ? graph.nodes[$0].opType : graph.nodes[$0].name
            }
            throw fail(.malformed, "the graph has a cycle (nodes that never become ready: " +
                stuck.joined(separator: ", ") + ")")
        }

        // Shape inference and constant folding, node by node.
        var runtime: [CompiledNode] = []
        for index in order {
            let spec = graph.nodes[index]
            func wrap(_ error: Error) -> ModelError {
                switch error {
                case let error as OpError:
                    return ModelError(error.kind, error.message, model: modelPath, node: spec.name, op: spec.opType)
                case let error as ModelError:
                    var copy = error.inModel(modelPath)
                    if copy.node == nil { copy.node = spec.name }
                    if copy.op == nil { copy.op = spec.opType }
                    return copy
                default:
                    return ModelError(.invalid, "\(error)", model: modelPath, node: spec.name, op: spec.opType)
                }
            }
            do {
                guard spec.outputs.contains(where: { !$0.isEmpty }) else {
                    throw ModelError(.malformed, "the node has no outputs", model: modelPath)
                }
                let op = try makeOperator(spec)
                let inIds: [Int?] = spec.inputs.map { $0.isEmpty ? nil : ids[$0]! }
                let inTypes = inIds.map { $0.flatMap { types[$0] } }
                let inConstants = inIds.map { $0.flatMap { constantValues[$0] } }
                let outTypes = try op.infer(inTypes, constants: inConstants)
                guard spec.outputs.indices.allSatisfy({ spec.outputs[$0].isEmpty || $0 < outTypes.count }) else {
                    throw OpError.unsupported("\(spec.outputs.count) outputs requested, \(outTypes.count) produced")
                }
                for (position, name) in spec.outputs.enumerated() where position < outTypes.count {
                    try options.checkSize(outTypes[position],
                                          of: name.isEmpty ? "\(spec.name) output \(position)" : name)
                }
                var outIds: [Int] = []
                for (position, name) in spec.outputs.enumerated() where position < outTypes.count {
                    let id = define(name.isEmpty ? "\u{0}unused:\(spec.name):\(position)" : name)
                    types[id] = outTypes[position]
                    outIds.append(id)
                }
                let foldable = inIds.allSatisfy { $0 == nil || constantValues[$0!] != nil }
                if let known = op.constantOutputs(inTypes) {
                    for (id, tensor) in zip(outIds, known) { constantValues[id] = tensor }
                } else if foldable {
                    try op.prepare()
                    var results = outIds.map { Tensor(zeros: types[$0]!.shape, dtype: types[$0]!.dtype) }
                    let outRefs = results.indices.map { position in
                        TensorRef(data: results[position].mutableRawPointer(), type: types[outIds[position]]!)
                    }
                    let inRefs: [TensorRef?] = inIds.map { id in
                        id.map { TensorRef(data: UnsafeMutableRawPointer(mutating: constantValues[$0]!.rawPointer),
                                           type: types[$0]!) }
                    }
                    let scratch = TensorStorage(byteCount: op.workspaceBytes)
                    withExtendedLifetime(inConstants) {
                        op.run(inRefs, outRefs, workspace: scratch.bytes)
                    }
                    for (id, tensor) in zip(outIds, results) { constantValues[id] = tensor }
                } else {
                    runtime.append(CompiledNode(spec: spec, op: op, inputs: inIds, outputs: outIds))
                }
            } catch {
                throw wrap(error)
            }
        }

        var outputIds: [Int] = []
        for spec in graph.outputs {
            guard let id = ids[spec.name] else {
                throw fail(.malformed, "graph output '\(spec.name)' is never produced")
            }
            outputIds.append(id)
        }

        if options.fuse { Session.fuse(&runtime, outputIds: Set(outputIds), types: types) }
        // Pack weights; drop each constant input the op no longer reads once no other node reads it, so the
        // original and the packed copy of a weight are not both alive for longer than one node.
        var constantReaders: [Int: Int] = [:]
        for node in runtime {
            for id in node.inputs.compactMap({ $0 }) where constantValues[id] != nil {
                constantReaders[id, default: 0] += 1
            }
        }
        for id in outputIds where constantValues[id] != nil { constantReaders[id, default: 0] += 1 }
        for node in runtime {
            do { try node.op.prepare() } catch {
                let message = (error as? OpError)?.message ?? "\(error)"
                throw ModelError(.invalid, message, model: modelPath, node: node.spec.name, op: node.spec.opType)
            }
            for (position, input) in node.inputs.enumerated() {
                guard let id = input, constantValues[id] != nil, !node.op.readsConstantInput(position) else { continue }
                node.inputs[position] = nil
                constantReaders[id]! -= 1
                if constantReaders[id] == 0 { constantValues[id] = nil }
            }
        }

        // Buffer planning: every runtime value gets an arena offset; values whose lifetimes overlap never share.
        var root: [Int: Int] = [:]        // alias → owning value
        var birth: [Int: Int] = [:]
        var death: [Int: Int] = [:]
        let end = runtime.count
        for id in inputIds { birth[id] = -1; death[id] = -1 }
        for (step, node) in runtime.enumerated() {
            for input in node.inputs.compactMap({ $0 }) where constantValues[input] == nil {
                let owner = root[input] ?? input
                death[owner] = max(death[owner] ?? step, step)
            }
            for (position, output) in node.outputs.enumerated() {
                if position == 0, node.op.outputAliasesInput, let source = node.inputs[0],
                   constantValues[source] == nil {
                    let owner = root[source] ?? source
                    root[output] = owner
                    death[owner] = max(death[owner] ?? step, step)
                } else {
                    birth[output] = step
                    death[output] = step
                }
            }
        }
        for id in outputIds where constantValues[id] == nil { death[root[id] ?? id] = end }
        let owners = birth.keys.sorted { (types[$0]!.byteCount, $1) > (types[$1]!.byteCount, $0) }
        var placed: [(offset: Int, size: Int, birth: Int, death: Int)] = []
        var offsets: [Int: Int] = [:]
        var arenaSize = 0
        var unplanned = 0
        for id in owners {
            let size = (types[id]!.byteCount + 63) / 64 * 64
            unplanned += size
            let (from, to) = (birth[id]!, death[id]!)
            let conflicts = placed.filter { $0.birth <= to && from <= $0.death }.sorted { $0.offset < $1.offset }
            var offset = 0
            for block in conflicts {
                if offset + size <= block.offset { break }
                offset = max(offset, block.offset + block.size)
            }
            placed.append((offset, size, from, to))
            offsets[id] = offset
            arenaSize = max(arenaSize, offset + size)
        }
        var peakLive = 0
        for step in -1...max(end, 0) {
            let live = owners.filter { birth[$0]! <= step && step <= death[$0]! }
            peakLive = max(peakLive, live.reduce(0) { $0 + (types[$1]!.byteCount + 63) / 64 * 64 })
        }
        peakLiveBytes = peakLive
        let workspaceSize = runtime.map { $0.op.workspaceBytes }.max() ?? 0
        guard arenaSize <= options.maxArenaBytes - min(workspaceSize, options.maxArenaBytes) else {
            throw fail(.unsupported, "the model needs \(arenaSize) bytes of activations and \(workspaceSize) " +
                "bytes of scratch, over the limit of \(options.maxArenaBytes) bytes")
        }
        let arenaStorage = TensorStorage(byteCount: arenaSize)
        arena = arenaStorage
        workspace = TensorStorage(byteCount: workspaceSize)

        func ref(_ id: Int) -> TensorRef {
            if let constant = constantValues[id] {
                return TensorRef(data: UnsafeMutableRawPointer(mutating: constant.rawPointer), type: types[id]!)
            }
            return TensorRef(data: arenaStorage.bytes + offsets[root[id] ?? id]!, type: types[id]!)
        }
        var usedConstants: [Int: Tensor] = [:]
        for node in runtime {
            node.inputRefs = node.inputs.map { $0.map(ref) }
            node.outputRefs = node.outputs.map(ref)
            for id in node.inputs.compactMap({ $0 }) { usedConstants[id] = constantValues[id] }
        }
        for id in outputIds { usedConstants[id] = constantValues[id] }

        nodes = runtime
        constants = usedConstants
        inputs = inputPorts
        let inputRefList = inputIds.map(ref)
        let outputRefList = outputIds.map(ref)
        self.inputRefs = inputRefList
        outputs = zip(graph.outputs, outputIds).map { Port(name: $0.name, type: types[$1]!) }
        outputSources = outputRefList
        sourceNodeCount = graph.nodes.count
        arenaBytes = arenaSize
        unplannedBytes = unplanned
        constantBytes = usedConstants.values.reduce(0) { $0 + $1.byteCount }
        flopsPerRun = runtime.reduce(0) { $0 + $1.op.flops }
    }

    /// A session over the same compiled nodes and weights (operators are immutable once prepared) with buffers
    /// of its own: another caller can run it at the same time as this one. Costs the arena and scratch only.
    public func replica() -> Session { Session(replicating: self) }

    private init(replicating other: Session) {
        arena = TensorStorage(byteCount: other.arena.byteCount)
        workspace = TensorStorage(byteCount: other.workspace.byteCount)
        let oldBase = UnsafeRawPointer(other.arena.bytes), size = other.arena.byteCount
        let newBase = arena.bytes
        // Arena values move to the same offset in the new arena; constants (weights) are shared as they are.
        func rebase(_ ref: TensorRef) -> TensorRef {
            let offset = UnsafeRawPointer(ref.data) - oldBase
            guard offset >= 0, offset < max(size, 1), size > 0 else { return ref }
            return TensorRef(data: newBase + offset, type: ref.type)
        }
        nodes = other.nodes.map { node in
            let copy = CompiledNode(spec: node.spec, op: node.op, inputs: node.inputs, outputs: node.outputs)
            copy.inputRefs = node.inputRefs.map { $0.map(rebase) }
            copy.outputRefs = node.outputRefs.map(rebase)
            return copy
        }
        constants = other.constants
        inputRefs = other.inputRefs.map(rebase)
        outputSources = other.outputSources.map(rebase)
        inputs = other.inputs
        outputs = other.outputs
        sourceNodeCount = other.sourceNodeCount
        arenaBytes = other.arenaBytes
        unplannedBytes = other.unplannedBytes
        peakLiveBytes = other.peakLiveBytes
        constantBytes = other.constantBytes
        flopsPerRun = other.flopsPerRun
    }

    /// Runs the model. `feeds` must hold every input with its declared dtype and (resolved) shape.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try load(feeds)
        let scratch = workspace.bytes
        for node in nodes {
            node.op.run(node.inputRefs, node.outputRefs, workspace: scratch)
        }
        return collectOutputs()
    }

    /// One timed node of a profiled run.
    public struct NodeTiming: Sendable {
        public var opType: String
        public var name: String
        public var milliseconds: Double
    }

    /// Runs the model like `run` and returns the wall time of every runtime node, in execution order.
    public func profile(_ feeds: [String: Tensor]) throws -> [NodeTiming] {
        try load(feeds)
        let scratch = workspace.bytes
        var timings: [NodeTiming] = []
        timings.reserveCapacity(nodes.count)
        for node in nodes {
            let start = DispatchTime.now().uptimeNanoseconds
            node.op.run(node.inputRefs, node.outputRefs, workspace: scratch)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            timings.append(NodeTiming(opType: node.spec.opType, name: node.spec.name, milliseconds: elapsed))
        }
        return timings
    }

    private func load(_ feeds: [String: Tensor]) throws {
        for (port, destination) in zip(inputs, inputRefs) {
            guard let tensor = feeds[port.name] else {
                throw ModelError(.badInput, "missing input '\(port.name)' (\(port.type))")
            }
            guard tensor.dtype == port.type.dtype, tensor.shape == port.type.shape else {
                throw ModelError(.badInput, "input '\(port.name)' is \(tensor.dtype)\(tensor.shape), the model " +
                    "expects \(port.type)")
            }
            destination.data.copyMemory(from: tensor.rawPointer, byteCount: tensor.byteCount)
        }
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) {
            throw ModelError(.badInput, "unknown input '\(name)' (model inputs: " +
                inputs.map(\.name).joined(separator: ", ") + ")")
        }
    }

    private func collectOutputs() -> [String: Tensor] {
        var results: [String: Tensor] = [:]
        for (port, source) in zip(outputs, outputSources) {
            results[port.name] = Tensor(shape: port.type.shape, dtype: port.type.dtype, copyingBytesFrom: source.data)
        }
        return withExtendedLifetime(constants) { results }
    }

    /// The (Sigmoid, Mul) node indices of x · sigmoid(x) over `produced`, when the sigmoid feeds only the Mul.
    static func siluPair(_ nodes: [CompiledNode], _ readers: [Int], produced: Int, outputIds: Set<Int>)
        -> (Int, Int)? {
        guard let sigmoid = readers.first(where: { nodes[$0].spec.opType == "Sigmoid" }),
              let product = readers.first(where: { nodes[$0].spec.opType == "Mul" }) else { return nil }
        let gate = nodes[sigmoid].outputs[0]
        guard nodes[sigmoid].inputs == [produced], Set(nodes[product].inputs.compactMap { $0 }) == [produced, gate],
              nodes[product].inputs.count == 2, !outputIds.contains(gate),
              nodes.filter({ $0.inputs.contains(gate) }).count == 1 else { return nil }
        return (sigmoid, product)
    }

    /// Folds BatchNormalization, a residual Add and an activation into the convolution before them, when the
    /// convolution's output has no other reader.
    static func fuse(_ nodes: inout [CompiledNode], outputIds: Set<Int>, types: [ValueType?]) {
        var index = 0
        while index < nodes.count {
            defer { index += 1 }
            guard let conv = nodes[index].op as? OutputFusing else { continue }
            while true {
                let produced = nodes[index].outputs[0]
                if outputIds.contains(produced) { break }
                let readers = nodes.indices.filter { nodes[$0].inputs.contains(produced) }
                if readers.count == 2, !conv.hasActivation,
                   let (sigmoid, product) = siluPair(nodes, readers, produced: produced, outputIds: outputIds),
                   conv.absorbActivation(.silu) {
                    nodes[index].outputs = [nodes[product].outputs[0]]
                    for removed in [sigmoid, product].sorted(by: >) { nodes.remove(at: removed) }
                    continue
                }
                guard readers.count == 1, readers[0] > index else { break }
                let next = nodes[readers[0]]
                guard next.inputs.filter({ $0 == produced }).count == 1 else { break }
                var absorbed = false
                if let affine = next.op as? ChannelAffine, next.inputs.first == produced, !conv.hasActivation,
                   !conv.hasResidual, let (scale, shift) = affine.channelScaleShift,
                   next.outputs.count == 1 {
                    absorbed = conv.absorbChannelAffine(scale: scale, shift: shift)
                } else if next.spec.opType == "Add", next.inputs.count == 2, !conv.hasActivation, !conv.hasResidual,
                          let other = next.inputs.first(where: { $0 != produced }) ?? nil,
                          types[other] == types[produced], types[next.outputs[0]] == types[produced],
                          !(nodes[(index + 1)...].contains { $0.outputs.contains(other) }) {
                    // `other` must exist before the convolution runs; the conv's output buffer is then also
                    // distinct from it, as both are live at the conv.
                    if conv.absorbResidual() {
                        nodes[index].inputs.append(other)
                        absorbed = true
                    }
                } else if let activation = next.op as? FusableActivation, let kind = activation.fusedActivation,
                          !conv.hasActivation {
                    absorbed = conv.absorbActivation(kind)
                }
                guard absorbed else { break }
                nodes[index].outputs = [next.outputs[0]]
                nodes.remove(at: readers[0])
            }
        }
    }
}
