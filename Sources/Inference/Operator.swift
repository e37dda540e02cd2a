// The contract every op implements: parse attributes (init), infer output types once at load, run on
// planned buffers. Ops are classes so load-time passes (BatchNorm and activation fusion) can adjust them.
import Tensor

/// Element type and concrete shape of a value, known for every value after load.
public struct ValueType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Int]
    public init(_ dtype: DType, _ shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }
    public var count: Int { elementCount(shape) }
    public var byteCount: Int { count * dtype.byteSize }
    public var description: String { "\(dtype)\(shape)" }
}

/// A value's memory during a run: a planned arena slot, a graph input, or a constant's storage.
/// Ops never write through input refs.
public struct TensorRef: @unchecked Sendable {
    public var data: UnsafeMutableRawPointer
    public var type: ValueType

    public init(data: UnsafeMutableRawPointer, type: ValueType) {
        self.data = data
        self.type = type
    }

    public var shape: [Int] { type.shape }
    public var dtype: DType { type.dtype }
    public var count: Int { type.count }
    @inline(__always) public var floats: UnsafeMutablePointer<Float> { data.assumingMemoryBound(to: Float.self) }
    @inline(__always) public var int64s: UnsafeMutablePointer<Int64> { data.assumingMemoryBound(to: Int64.self) }
}

public protocol Operator: AnyObject {
    /// Output types for these input types (nil = omitted optional input). `constants` holds the values of
    /// inputs known at load (initializers and folded results); ops whose output shape depends on an input's
    /// values (Reshape's shape, Slice's starts, ...) require it here and throw otherwise.
    func infer(_ inputs: [ValueType?], constants: [Tensor?]) throws -> [ValueType]

    /// Computes outputs from inputs. Called with the types `infer` saw; must not allocate on the hot path.
    func run(_ inputs: [TensorRef?], _ outputs: [TensorRef], workspace: UnsafeMutableRawPointer)

    /// Scratch bytes `run` needs (valid after `infer`).
    var workspaceBytes: Int { get }
    /// Output 0 is input 0's bytes under another shape (Reshape family): no copy, no buffer of its own.
    var outputAliasesInput: Bool { get }
    /// Multiply-adds × 2 of one run, for GFLOP/s reports (convolutions and matrix products).
    var flops: Double { get }
    /// Outputs known from input types alone (Shape, Size), so they fold even when inputs are not constant.
    func constantOutputs(_ inputs: [ValueType?]) -> [Tensor]?
    /// Called once after fusion passes, before the first run (prepack weights here).
    func prepare() throws
    /// Whether `run` still reads constant input `index` after `prepare` (packed weights are not re-read, so the
    /// session can free the original tensors as soon as they are packed).
    func readsConstantInput(_ index: Int) -> Bool
}

extension Operator {
    public var workspaceBytes: Int { 0 }
    public var outputAliasesInput: Bool { false }
    public var flops: Double { 0 }
    public func constantOutputs(_ inputs: [ValueType?]) -> [Tensor]? { nil }
    public func prepare() throws {}
    public func readsConstantInput(_ index: Int) -> Bool { true }
}

/// Input checking helpers shared by op files.
extension Array where Element == ValueType? {
    /// The type of required input `index`, or an error naming it.
    public func required(_ index: Int, _ what: String = "input") throws -> ValueType {
        guard index < count, let type = self[index] else { throw OpError("missing \(what) \(index)") }
        return type
    }

    public func optional(_ index: Int) -> ValueType? { index < count ? self[index] : nil }
}

extension Array where Element == Tensor? {
    /// The load-time value of input `index`, required because the output shape depends on it.
    public func constant(_ index: Int, _ what: String) throws -> Tensor {
        guard index < count, let tensor = self[index] else {
            throw OpError.unsupported("\(what) (input \(index)) must be known at load time (a constant or " +
                "computable from shapes); data-dependent shapes are not supported")
        }
        return tensor
    }

    public func optionalConstant(_ index: Int) -> Tensor? { index < count ? self[index] : nil }
}

/// Normalises a possibly negative axis against `rank`.
public func normaliseAxis(_ axis: Int, rank: Int) throws -> Int {
    let resolved = axis < 0 ? axis + rank : axis
    guard resolved >= 0, resolved < rank else { throw OpError("axis \(axis) out of range for rank \(rank)") }
    return resolved
}

/// The most elements an op may compute a table or a folded constant for at load time; bigger shapes are
/// rejected before anything is allocated (the session then checks every value against its byte limit).
public let maxInferredElements = 1 << 31

/// Throws unless `shape` has no negative dimension and at most `maxInferredElements` elements: for shapes an op
/// computes from attributes or constants in a file, before it allocates anything of that size.
public func checkInferredShape(_ shape: [Int], _ what: String) throws {
    guard let count = checkedElementCount(shape), count <= maxInferredElements else {
        throw OpError("\(what) \(shape) is negative or larger than \(maxInferredElements) elements")
    }
}

/// Requires float32 for ops whose kernels are float-only.
public func requireFloat(_ type: ValueType, _ what: String = "input") throws {
    guard type.dtype == .float32 else { throw OpError.unsupported("\(what) of dtype \(type.dtype) (float32 only)") }
}
