// The one parallel-for of actiond: contiguous bands of a range, or numbered workers, run concurrently and
// joined before returning. The engine's kernels and the flow solvers both split their loops through here; each
// keeps its own thread knob and passes the count in.
import Dispatch

public enum Parallel {
    /// Calls `body` on `parts` contiguous, disjoint, near-equal sub-ranges of `0..<count`, concurrently when
    /// there is more than one, where `parts` is `threads` but no more than leaves `minimumPerBand` items a band
    /// (and at least 1). With one part `body` runs inline on the caller. Bodies must write disjoint memory.
    public static func forEachBand(
        _ count: Int, threads: Int, minimumPerBand: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let parts = max(1, min(threads, count / max(1, minimumPerBand)))
        if parts == 1 {
            body(0..<count)
            return
        }
        forWorkers(parts) { part in body(band(part, of: parts, count: count)) }
    }

    /// The `part`-th of `parts` near-equal contiguous ranges covering `0..<count`.
    public static func band(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (count * part / parts)..<(count * (part + 1) / parts)
    }

    /// Runs `body(worker)` for worker in 0..<workers concurrently and returns when all are done (inline when
    /// `workers` ≤ 1).
    public static func forWorkers(_ workers: Int, _ body: (Int) -> Void) {
        if workers <= 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in
            // Workers only run while this call blocks, and callers give each a disjoint part of the output;
            // the closures capture raw pointers, which is why they are not Sendable.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { worker in body(worker) }
        }
    }
}
