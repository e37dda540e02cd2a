// Splitting our own loops across the kernel workers (`KernelThreads.workers`).
import Dispatch

enum Parallel {
    /// Runs `body(range)` over `0..<count` split into contiguous chunks, one per worker, when the work is big
    /// enough (`work` ≈ flops or floats touched) to pay for the dispatch; otherwise inline on the caller.
    static func forRanges(
        _ count: Int, work: Int = .max, minimumWork: Int = 1 << 15, workers: Int? = nil,
        _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let threads = min(workers ?? KernelThreads.workers, count)
        if threads <= 1 || work < minimumWork {
            body(0..<count)
            return
        }
        forWorkers(threads) { t in
            let lower = count * t / threads, upper = count * (t + 1) / threads
            if lower < upper { body(lower..<upper) }
        }
    }

    /// Runs `body(worker)` for worker in 0..<workers concurrently and returns when all are done.
    static func forWorkers(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            // Workers only run while this call blocks, and callers give each a disjoint part of the output;
            // the closures capture raw pointers, which is why they are not Sendable.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { t in body(t) }
        }
    }
}
