// Dtype-agnostic data movement (copy, permute, strided gather) used by the shape ops. Elements are moved as
// 1-, 4- or 8-byte words, so the same code serves float32, int32, int64 and bool tensors.
import Tensor

/// Calls `body` with the fixed-width integer type that has `dtype`'s size.
@inline(__always)
func withWord<R>(_ dtype: DType, _ body: (any FixedWidthInteger.Type) -> R) -> R {
    switch dtype.byteSize {
    case 1: return body(UInt8.self)
    case 4: return body(UInt32.self)
    default: return body(UInt64.self)
    }
}

/// out[o] = in[offset(o)] where offset is Σ coordinate·stride over `shape` (an N-d strided gather).
/// Used by Transpose (permuted strides), Slice (scaled strides and a base offset) and Expand (zero strides).
func stridedGather(_ dtype: DType, input: UnsafeRawPointer, base: Int, strides: [Int], shape: [Int],
                   output: UnsafeMutableRawPointer) {
    switch dtype.byteSize {
    case 1: stridedGatherWords(input.assumingMemoryBound(to: UInt8.self) + base, strides, shape,
                               output.assumingMemoryBound(to: UInt8.self))
    case 4: stridedGatherWords(input.assumingMemoryBound(to: UInt32.self) + base, strides, shape,
                               output.assumingMemoryBound(to: UInt32.self))
    default: stridedGatherWords(input.assumingMemoryBound(to: UInt64.self) + base, strides, shape,
                                output.assumingMemoryBound(to: UInt64.self))
    }
}

private func stridedGatherWords<T>(_ input: UnsafePointer<T>, _ strides: [Int], _ shape: [Int],
                                   _ output: UnsafeMutablePointer<T>) {
    let total = shape.reduce(1, *)
    guard total > 0 else { return }
    let rank = shape.count
    if rank == 0 {
        output[0] = input[0]
        return
    }
    let inner = shape[rank - 1]
    let innerStride = strides[rank - 1]
    guard inner > 0 else { return }
    // The odometer lives on the stack: no allocation per run.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { counter in
        counter.initialize(repeating: 0)
        var offset = 0
        var o = 0
        while o < total {
            if innerStride == 1 {
                (output + o).update(from: input + offset, count: inner)
            } else {
                for j in 0..<inner { output[o + j] = input[offset + j * innerStride] }
            }
            o += inner
            var axis = rank - 2
            while axis >= 0 {
                counter[axis] += 1
                offset += strides[axis]
                if counter[axis] < shape[axis] { break }
                offset -= strides[axis] * shape[axis]
                counter[axis] = 0
                axis -= 1
            }
            if axis < 0 { break }
        }
    }
}

/// Copies `input` to `output` unless they are the same memory (aliased outputs of Reshape-like ops).
@inline(__always)
func copyUnlessAliased(_ input: TensorRef, _ output: TensorRef) {
    if input.data != output.data {
        output.data.copyMemory(from: input.data, byteCount: output.type.byteCount)
    }
}
