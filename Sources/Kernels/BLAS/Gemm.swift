// Single-precision matrix multiply on OpenBLAS, and the one thread-count knob for all kernels.
// Kernels is the only module that imports COpenBLAS.
//
// Threading: OpenBLAS itself is kept at one thread and we split work ourselves. That lets conv kernels run
// one single-threaded sgemm per worker on cache-sized tiles (as ONNX Runtime's MLAS does), which OpenBLAS's
// own threading cannot be asked to do per call; plain `Gemm.sgemm` splits big products across the workers.
import COpenBLAS
import ParallelLoops
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public enum Gemm {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is M×K, op(B) is K×N, C is M×N.
    /// `lda`/`ldb`/`ldc` are the row strides of A, B and C as stored (before transposition).
    /// Big products are split across `KernelThreads.current` workers along N (or M when M is larger).
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        let workers = KernelThreads.workers
        // Below ~4 MFLOP a split costs more in dispatch and repacking than it saves.
        if workers <= 1 || m * n * k < 1 << 21 || max(m, n) < 32 {
            singleThreaded(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
                           ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let splitN = n >= m
        let extent = splitN ? n : m
        let parts = min(workers, extent / 16)
        Parallel.forRanges(parts, workers: parts) { range in
            for part in range {
                // Part boundaries on multiples of 16 keep every part's columns aligned to the BLAS kernel width.
                let lower = part == 0 ? 0 : (extent * part / parts) & ~15
                let upper = part == parts - 1 ? extent : (extent * (part + 1) / parts) & ~15
                if upper <= lower { continue }
                if splitN {
                    singleThreaded(
                        transA: transA, transB: transB, m: m, n: upper - lower, k: k, alpha: alpha, a: a, lda: lda,
                        b: transB ? b + lower * ldb : b + lower, ldb: ldb, beta: beta, c: c + lower, ldc: ldc)
                } else {
                    singleThreaded(
                        transA: transA, transB: transB, m: upper - lower, n: n, k: k, alpha: alpha,
                        a: transA ? a + lower : a + lower * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                        c: c + lower * ldc, ldc: ldc)
                }
            }
        }
    }

    /// One OpenBLAS call on the calling thread (OpenBLAS is held at one thread; see the file comment).
    @inline(__always)
    static func singleThreaded(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {  // OpenBLAS would still scale C by beta; do the same without calling it
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        KernelThreads.prepareBLAS()
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension Parallel {
    /// Runs `body(range)` over `0..<count` split into contiguous chunks, one per kernel worker
    /// (`KernelThreads.workers`, or `workers`), when the work is big enough (`work` ≈ flops or floats touched)
    /// to pay for the dispatch; otherwise inline on the caller.
    static func forRanges(
        _ count: Int, work: Int = .max, minimumWork: Int = 1 << 15, workers: Int? = nil,
        _ body: (Range<Int>) -> Void
    ) {
        forEachBand(count, threads: work < minimumWork ? 1 : workers ?? KernelThreads.workers, body)
    }
}

/// The thread count used by our parallel kernels (OpenBLAS calls included: we split them ourselves).
public enum KernelThreads {
    private static let count = Atomic<Int>(onlineCores)

    /// Sets the number of threads (clamped to ≥ 1). Default: the online cores.
    public static func set(_ count: Int) {
        Self.count.store(max(1, count), ordering: .relaxed)
    }

    public static var current: Int { count.load(ordering: .relaxed) }

    /// Workers our loops actually start: `current`, but never more than the online cores (more would only
    /// time-slice) nor more than `maxWorkers`, which sizes per-worker scratch in workspaces.
    static var workers: Int { min(current, maxWorkers) }

    /// Upper bound on concurrent workers; per-worker workspace slabs are provisioned for this many.
    static let maxWorkers = max(1, onlineCores)

    static let onlineCores: Int = {
        #if canImport(Glibc)
        return max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }()

    /// Call before any OpenBLAS call: the first call pins OpenBLAS to one thread (we split work ourselves).
    @inline(__always)
    static func prepareBLAS() {
        if !blasPrepared { fatalError("unreachable: the initializer returns true") }
    }

    private static let blasPrepared: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// The CPU core type OpenBLAS runs (e.g. "Haswell", "Cooperlake"), for benchmark reports. OpenBLAS picks it
    /// from the CPU unless the environment sets OPENBLAS_CORETYPE.
    public static var blasCoreName: String {
        prepareBLAS()
        return String(cString: openblas_get_corename())
    }
}
