// Single-precision matrix multiply on OpenBLAS, and the one thread-count knob for all kernels.
// Kernels is the only module that imports COpenBLAS.
import COpenBLAS

public enum Gemm {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major. op(A) is M×K, op(B) is K×N, C is M×N.
    /// `lda`/`ldb`/`ldc` are the row strides of A, B and C as stored (before transposition).
    @inlinable
    public static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {  // OpenBLAS would still scale C by beta; do the same without calling it
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// The thread count used by OpenBLAS and by our own parallel kernels.
public enum KernelThreads {
    /// Sets the number of threads (clamped to ≥ 1).
    public static func set(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var current: Int { Int(openblas_get_num_threads()) }

    /// The CPU core type OpenBLAS picked (e.g. "Haswell", "SkylakeX"), for benchmark reports.
    public static var blasCoreName: String { String(cString: openblas_get_corename()) }
}
