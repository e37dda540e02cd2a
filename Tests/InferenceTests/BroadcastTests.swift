// The fast broadcast loop against the plain per-element reference over random shape pairs (odd sizes, rank
// mismatch, broadcasting on either side and in the middle).
import Inference
import TestSupport
import Testing

@Suite struct BroadcastTests {
    @Test func fastMatchesReferenceOnRandomShapes() throws {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<300 {
            let rank = Int.random(in: 0...5, using: &generator)
            let full = (0..<rank).map { _ in Int.random(in: 1...5, using: &generator) }
            func variant() -> [Int] {
                let drop = Int.random(in: 0...rank, using: &generator)
                return full.dropFirst(drop).map { Bool.random(using: &generator) ? 1 : $0 }
            }
            let aShape = variant()
            let bShape = variant()
            let outShape = try broadcastShape(aShape, bShape)
            let a = (0..<aShape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &generator) }
            let b = (0..<bShape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &generator) }
            let count = outShape.reduce(1, *)
            var fast = [Float](repeating: .nan, count: count)
            var reference = [Float](repeating: .nan, count: count)
            fast.withUnsafeMutableBufferPointer { out in
                FastBroadcast.binary(a, aShape, b, bShape, out.baseAddress!, outShape) { $0 * 3 - $1 }
            }
            reference.withUnsafeMutableBufferPointer { out in
                ReferenceBroadcast.binary(a, aShape, b, bShape, out.baseAddress!, outShape) { $0 * 3 - $1 }
            }
            #expect(fast == reference, "a \(aShape) b \(bShape)")
        }
    }

    @Test func broadcastShapeFollowsNumpy() throws {
        #expect(try broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(try broadcastShape([], [5]) == [5])
        #expect(throws: OpError.self) { try broadcastShape([2, 3], [4, 3, 2]) }
    }
}
