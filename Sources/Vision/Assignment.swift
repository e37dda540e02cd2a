// Optimal one-to-one assignment (the linear assignment problem) for associating tracks with detections: the
// Hungarian method with row and column potentials (Kuhn–Munkres in its O(n³) shortest-augmenting-path form, the
// same problem Jonker–Volgenant's LAPJV solves), on a square matrix extended so that any row or column may stay
// unmatched at half the cost limit (as `lap.lapjv(extend_cost: true, cost_limit:)` does for ByteTrack). A pair is
// matched only when its cost is below the limit and matching it is part of the cheapest overall assignment.
/// Solves rectangular assignment problems with a cost limit.
public enum LinearAssignment {
    /// The pairs (row, column) of the cheapest assignment of `rows`×`columns` costs (`cost[r * columns + c]`) in
    /// which every pair costs less than `limit`; entries that are not finite, or at or above `limit`, are never
    /// matched. Rows and columns left out are unmatched. Pairs come sorted by row. Deterministic: ties go to the
    /// lower index.
    public static func solve(cost: [Double], rows: Int, columns: Int, limit: Double) -> [(row: Int, column: Int)] {
        precondition(rows >= 0 && columns >= 0 && cost.count == rows * columns, "cost is not rows × columns")
        precondition(limit.isFinite && limit > 0, "the cost limit must be finite and positive")
        guard rows > 0, columns > 0 else { return [] }
        // Extended square matrix of side n = rows + columns:
        //   [ C          | limit/2 ]   a real row may go to a dummy column (stay unmatched) at limit/2,
        //   [ limit/2    | 0       ]   a dummy row may take a real column (leave it unmatched) at limit/2.
        // A pair (r, c) is then matched only if C[r, c] < limit/2 + limit/2. Forbidden entries cost more than
        // leaving both unmatched, so they are never chosen.
        let n = rows + columns
        let forbidden = limit * 2 + 1
        var square = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n {
                let value: Double
                if r < rows && c < columns {
                    let v = cost[r * columns + c]
                    value = v.isFinite && v < limit ? v : forbidden
                } else if r < rows || c < columns {
                    value = limit / 2
                } else {
                    value = 0
                }
                square[r * n + c] = value
            }
        }
        let columnOfRow = hungarian(square, n: n)
        var pairs: [(row: Int, column: Int)] = []
        for r in 0..<rows {
            let c = columnOfRow[r]
            if c < columns, cost[r * columns + c].isFinite, cost[r * columns + c] < limit { pairs.append((r, c)) }
        }
        return pairs
    }

    /// The column assigned to each row of the cheapest perfect matching of an n×n matrix (row-major).
    /// Shortest augmenting paths with potentials u (rows) and v (columns); index 0 is the virtual start.
    static func hungarian(_ a: [Double], n: Int) -> [Int] {
        var u = [Double](repeating: 0, count: n + 1), v = [Double](repeating: 0, count: n + 1)
        var rowOfColumn = [Int](repeating: 0, count: n + 1)  // 1-based rows; 0 = free
        var way = [Int](repeating: 0, count: n + 1)
        for i in 1...n {
            rowOfColumn[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: n + 1)
            var used = [Bool](repeating: false, count: n + 1)
            repeat {
                used[j0] = true
                let i0 = rowOfColumn[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...n where !used[j] {
                    let current = a[(i0 - 1) * n + (j - 1)] - u[i0] - v[j]
                    if current < minv[j] {
                        minv[j] = current
                        way[j] = j0
                    }
                    if minv[j] < delta {
                        delta = minv[j]
                        j1 = j
                    }
                }
                for j in 0...n {
                    if used[j] {
                        u[rowOfColumn[j]] += delta
                        v[j] -= delta
                    } else {
                        minv[j] -= delta
                    }
                }
                j0 = j1
            } while rowOfColumn[j0] != 0
            repeat {
                let j1 = way[j0]
                rowOfColumn[j0] = rowOfColumn[j1]
                j0 = j1
            } while j0 != 0
        }
        var columnOfRow = [Int](repeating: 0, count: n)
        for j in 1...n where rowOfColumn[j] > 0 { columnOfRow[rowOfColumn[j] - 1] = j - 1 }
        return columnOfRow
    }
}
