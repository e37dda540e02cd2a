// Splitting our own loops across the kernel threads (the same count OpenBLAS uses: `KernelThreads`).
import Dispatch

enum Parallel {
    /// Runs `body(range)` over `0..<count` split into contiguous chunks, one per worker, when the work is big
    /// enough (`work` ≈ flops or bytes touched) to pay for the dispatch; otherwise inline on the caller.
    static func forRanges(
        _ count: Int, work: Int = .max, minimumWork: Int = 1 << 15, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let threads = min(KernelThreads.current, count)
        if threads <= 1 || work < minimumWork {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            // Workers only run while this call blocks, and each gets a disjoint range; the callers' closures
            // capture raw pointers, which is why they are not Sendable.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let lower = count * t / threads, upper = count * (t + 1) / threads
                if lower < upper { body(lower..<upper) }
            }
        }
    }
}
