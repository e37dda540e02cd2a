// numpy-style broadcasting for binary ops: a plain reference (index arithmetic per element) and a fast path
// (collapsed dimensions, contiguous inner loop) that tests compare against each other.

/// The broadcast shape of `a` and `b`, or an error naming both.
public func broadcastShape(_ a: [Int], _ b: [Int]) throws -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
        let da = axis - (rank - a.count) >= 0 ? a[axis - (rank - a.count)] : 1
        let db = axis - (rank - b.count) >= 0 ? b[axis - (rank - b.count)] : 1
        guard da == db || da == 1 || db == 1 else { throw OpError("shapes \(a) and \(b) do not broadcast") }
        result[axis] = da == 1 ? db : da
    }
    return result
}

/// Strides (in elements) of `shape` read as if broadcast to `target`: 0 along broadcast dimensions.
public func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = contiguousStridesOf(shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { axis in
        let source = axis - offset
        return source < 0 || shape[source] == 1 ? 0 : own[source]
    }
}

func contiguousStridesOf(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = running
        running *= shape[axis]
    }
    return strides
}

public enum ReferenceBroadcast {
    /// out[i] = f(a[ia], b[ib]) with each output index mapped back through broadcasting, one element at a time.
    public static func binary<T, U>(
        _ a: UnsafePointer<T>, _ aShape: [Int], _ b: UnsafePointer<T>, _ bShape: [Int],
        _ out: UnsafeMutablePointer<U>, _ outShape: [Int], _ f: (T, T) -> U
    ) {
        let sa = broadcastStrides(aShape, to: outShape)
        let sb = broadcastStrides(bShape, to: outShape)
        let total = outShape.reduce(1, *)
        for flat in 0..<total {
            var rest = flat
            var ia = 0
            var ib = 0
            for axis in stride(from: outShape.count - 1, through: 0, by: -1) {
                let coordinate = rest % outShape[axis]
                rest /= outShape[axis]
                ia += coordinate * sa[axis]
                ib += coordinate * sb[axis]
            }
            out[flat] = f(a[ia], b[ib])
        }
    }
}

/// Dimensions merged where both operands are laid out the same way, so the inner loop is as long as possible.
struct CollapsedBroadcast {
    var shape: [Int] = []
    var aStrides: [Int] = []
    var bStrides: [Int] = []

    init(aShape: [Int], bShape: [Int], outShape: [Int]) {
        let sa = broadcastStrides(aShape, to: outShape)
        let sb = broadcastStrides(bShape, to: outShape)
        for axis in 0..<outShape.count where outShape[axis] != 1 {
            let aBroadcast = sa[axis] == 0
            let bBroadcast = sb[axis] == 0
            if let last = shape.indices.last, (aStrides[last] == 0) == aBroadcast,
               (bStrides[last] == 0) == bBroadcast {
                shape[last] *= outShape[axis]
                aStrides[last] = aBroadcast ? 0 : sa[axis]
                bStrides[last] = bBroadcast ? 0 : sb[axis]
            } else {
                shape.append(outShape[axis])
                aStrides.append(sa[axis])
                bStrides.append(sb[axis])
            }
        }
        if shape.isEmpty {
            shape = [1]
            aStrides = [0]
            bStrides = [0]
        }
    }
}

public enum FastBroadcast {
    /// Same contract as `ReferenceBroadcast.binary`; walks collapsed dimensions with a contiguous inner loop.
    @inline(__always)
    public static func binary<T, U>(
        _ a: UnsafePointer<T>, _ aShape: [Int], _ b: UnsafePointer<T>, _ bShape: [Int],
        _ out: UnsafeMutablePointer<U>, _ outShape: [Int], _ f: (T, T) -> U
    ) {
        let total = outShape.reduce(1, *)
        let aCount = aShape.reduce(1, *)
        let bCount = bShape.reduce(1, *)
        if aCount == total && bCount == total {
            for i in 0..<total { out[i] = f(a[i], b[i]) }
            return
        }
        if bCount == 1 && aCount == total {
            let scalar = b[0]
            for i in 0..<total { out[i] = f(a[i], scalar) }
            return
        }
        if aCount == 1 && bCount == total {
            let scalar = a[0]
            for i in 0..<total { out[i] = f(scalar, b[i]) }
            return
        }
        let plan = CollapsedBroadcast(aShape: aShape, bShape: bShape, outShape: outShape)
        let rank = plan.shape.count
        let inner = plan.shape[rank - 1]
        let innerA = plan.aStrides[rank - 1]
        let innerB = plan.bStrides[rank - 1]
        let outer = total / inner
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { counter in
            counter.initialize(repeating: 0)
            var ia = 0
            var ib = 0
            var o = 0
            for _ in 0..<outer {
                if innerA == 1 && innerB == 1 {
                    for j in 0..<inner { out[o + j] = f(a[ia + j], b[ib + j]) }
                } else if innerA == 1 {
                    let scalar = b[ib]
                    for j in 0..<inner { out[o + j] = f(a[ia + j], scalar) }
                } else if innerB == 1 {
                    let scalar = a[ia]
                    for j in 0..<inner { out[o + j] = f(scalar, b[ib + j]) }
                } else {
                    for j in 0..<inner { out[o + j] = f(a[ia + j * innerA], b[ib + j * innerB]) }
                }
                o += inner
                // Advance the odometer over the outer dimensions.
                var axis = rank - 2
                while axis >= 0 {
                    counter[axis] += 1
                    ia += plan.aStrides[axis]
                    ib += plan.bStrides[axis]
                    if counter[axis] < plan.shape[axis] { break }
                    ia -= plan.aStrides[axis] * plan.shape[axis]
                    ib -= plan.bStrides[axis] * plan.shape[axis]
                    counter[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}
