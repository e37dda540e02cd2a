// Splits row ranges across threads; every parallel loop in Flow goes through here so the thread knob is one place.
import Dispatch

enum Parallel {
    /// Calls `body` on `parts` contiguous, disjoint sub-ranges of `0..<count` (fewer when count is small),
    /// concurrently when `threads > 1`. Bodies must write disjoint memory.
    static func forEachBand(_ count: Int, threads: Int, minimumPerBand: Int = 8, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let parts = max(1, min(threads, count / max(1, minimumPerBand)))
        if parts == 1 {
            body(0..<count)
            return
        }
        // The bands write disjoint memory (the caller's contract), so sharing `body` across threads is safe;
        // the box only tells the compiler so.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                shared.value(band(part, of: parts, count: count))
            }
        }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges covering `0..<count`.
    static func band(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }
}

/// Carries a value the caller guarantees is used race-free across threads.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

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
