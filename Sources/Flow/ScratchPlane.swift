// Solver planes: Float buffers with manual lifetime, shared by the parallel bands of one solver step (each band
// writes its own rows).

/// A scratch Float buffer with manual lifetime, for solver planes shared by parallel bands.
struct ScratchPlane {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(count: Int, value: Float = 0) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: value, count: max(1, count))
        self.count = count
    }

    init(copying array: [Float]) {
        self.init(count: array.count)
        array.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: array.count) }
    }

    func free() { pointer.deallocate() }

    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
