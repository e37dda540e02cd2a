// Dense tensors: element type, shape, row-major strides, and storage shared copy-on-write.
// The engine reads and writes elements through raw pointers; users go through typed accessors.

/// The element types the engine stores. Float32 carries activations; the integer and bool types exist
/// for shape computations (Shape, Gather indices, masks) and for model inputs that need them.
public enum DType: String, Sendable, Hashable, CustomStringConvertible {
    case float32, int64, int32, bool

    /// Bytes per element (bool is one byte, 0 or 1, as in numpy).
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int64: return 8
        case .bool: return 1
        }
    }

    public var description: String { rawValue }
}

/// Owns one zero-initialised, 64-byte aligned block of memory.
public final class TensorStorage: @unchecked Sendable {
    public let bytes: UnsafeMutableRawPointer
    public let byteCount: Int

    public init(byteCount: Int) {
        self.byteCount = byteCount
        bytes = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
    }

    deinit { bytes.deallocate() }
}

/// Row-major strides (in elements) of a contiguous tensor of `shape`.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

/// Number of elements of `shape` (1 for a scalar, rank 0).
public func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

extension Int {
    /// `value` truncated toward zero, clamped to Int's range; NaN is 0. For floats read from files.
    public init(saturating value: Float) { self.init(saturating: Double(value)) }

    public init(saturating value: Double) {
        if value.isNaN {
            self = 0
        } else if value >= 9.2e18 {
            self = Int.max
        } else if value <= -9.2e18 {
            self = Int.min
        } else {
            self = Int(value)
        }
    }
}

/// Number of elements of `shape`, or nil when a dimension is negative or the product overflows `Int`: for
/// shapes read from files, where `elementCount` would trap.
public func checkedElementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for dimension in shape {
        guard dimension >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow else { return nil }
        count = product
    }
    return count
}

/// A contiguous row-major tensor. Copies share storage until one of them is mutated.
/// `@unchecked Sendable`: the storage is only written through `mutating` accessors, which copy first
/// when the storage is shared, so a value handed to another task is never written behind its back.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    public let dtype: DType
    public let shape: [Int]
    public private(set) var storage: TensorStorage

    public var rank: Int { shape.count }
    public var count: Int { elementCount(shape) }
    public var strides: [Int] { contiguousStrides(shape) }
    public var byteCount: Int { count * dtype.byteSize }

    /// A zero-filled tensor.
    public init(zeros shape: [Int], dtype: DType = .float32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.dtype = dtype
        self.shape = shape
        storage = TensorStorage(byteCount: elementCount(shape) * dtype.byteSize)
    }

    public init(shape: [Int], floats: [Float]) {
        precondition(elementCount(shape) == floats.count, "\(floats.count) values for shape \(shape)")
        self.init(zeros: shape, dtype: .float32)
        floats.withUnsafeBytes { storage.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public init(shape: [Int], int64s: [Int64]) {
        precondition(elementCount(shape) == int64s.count, "\(int64s.count) values for shape \(shape)")
        self.init(zeros: shape, dtype: .int64)
        int64s.withUnsafeBytes { storage.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public init(shape: [Int], int32s: [Int32]) {
        precondition(elementCount(shape) == int32s.count, "\(int32s.count) values for shape \(shape)")
        self.init(zeros: shape, dtype: .int32)
        int32s.withUnsafeBytes { storage.bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public init(shape: [Int], bools: [Bool]) {
        precondition(elementCount(shape) == bools.count, "\(bools.count) values for shape \(shape)")
        self.init(zeros: shape, dtype: .bool)
        let out = storage.bytes.assumingMemoryBound(to: UInt8.self)
        for (index, value) in bools.enumerated() { out[index] = value ? 1 : 0 }
    }

    /// Copies `byteCount` bytes from `source` into a new tensor.
    public init(shape: [Int], dtype: DType, copyingBytesFrom source: UnsafeRawPointer) {
        self.init(zeros: shape, dtype: dtype)
        storage.bytes.copyMemory(from: source, byteCount: byteCount)
    }

    /// The same elements viewed with another shape of equal element count (shares storage).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(elementCount(newShape) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(sharing: storage, shape: newShape, dtype: dtype)
    }

    private init(sharing storage: TensorStorage, shape: [Int], dtype: DType) {
        self.storage = storage
        self.shape = shape
        self.dtype = dtype
    }

    /// Read-only pointer to the first element; valid while this tensor (or a copy of it) is alive.
    public var rawPointer: UnsafeRawPointer { UnsafeRawPointer(storage.bytes) }

    /// Mutable pointer to the first element, after making the storage unique.
    public mutating func mutableRawPointer() -> UnsafeMutableRawPointer {
        if !isKnownUniquelyReferenced(&storage) {
            let fresh = TensorStorage(byteCount: storage.byteCount)
            fresh.bytes.copyMemory(from: storage.bytes, byteCount: storage.byteCount)
            storage = fresh
        }
        return storage.bytes
    }

    public var floats: [Float] {
        precondition(dtype == .float32, "floats of a \(dtype) tensor")
        return Array(UnsafeBufferPointer(start: storage.bytes.assumingMemoryBound(to: Float.self), count: count))
    }

    public var int64s: [Int64] {
        precondition(dtype == .int64, "int64s of a \(dtype) tensor")
        return Array(UnsafeBufferPointer(start: storage.bytes.assumingMemoryBound(to: Int64.self), count: count))
    }

    public var int32s: [Int32] {
        precondition(dtype == .int32, "int32s of a \(dtype) tensor")
        return Array(UnsafeBufferPointer(start: storage.bytes.assumingMemoryBound(to: Int32.self), count: count))
    }

    public var bools: [Bool] {
        precondition(dtype == .bool, "bools of a \(dtype) tensor")
        let bytes = storage.bytes.assumingMemoryBound(to: UInt8.self)
        return (0..<count).map { bytes[$0] != 0 }
    }

    /// Every element converted to Int (for shape-like inputs: axes, pads, sizes, indices). Floats are
    /// truncated, saturating at Int's range (NaN becomes 0), so a hostile constant gives a value the shape
    /// checks reject rather than a trap.
    public var integers: [Int] {
        switch dtype {
        case .int64: return int64s.map { Int($0) }
        case .int32: return int32s.map { Int($0) }
        case .bool: return bools.map { $0 ? 1 : 0 }
        case .float32: return floats.map(Int.init(saturating:))
        }
    }

    /// Every element converted to Float.
    public var floatValues: [Float] {
        switch dtype {
        case .float32: return floats
        case .int64: return int64s.map { Float($0) }
        case .int32: return int32s.map { Float($0) }
        case .bool: return bools.map { $0 ? 1 : 0 }
        }
    }

    public var description: String { "Tensor<\(dtype)>\(shape)" }
}
