// The assignment solver on hand-made cost matrices (square, rectangular, infeasible, ties) and against an
// exhaustive search on random small ones.
import SeededRandom
import Vision
import XCTest

final class AssignmentTests: XCTestCase {
    private func pairs(_ cost: [[Double]], limit: Double = 10) -> [[Int]] {
        let rows = cost.count, columns = cost.first?.count ?? 0
        return LinearAssignment.solve(cost: cost.flatMap { $0 }, rows: rows, columns: columns, limit: limit)
            .map { [$0.row, $0.column] }
    }

    func testSquareMatrixTakesTheCheapestPermutationNotTheGreedyOne() {
        // Greedy takes (0,0) = 1 first and is then forced into (1,1) = 10: 11. The optimum is 2 + 3 = 5.
        XCTAssertEqual(pairs([[1, 2], [3, 10]]), [[0, 1], [1, 0]])
        XCTAssertEqual(pairs([[4, 1, 3], [2, 0, 5], [3, 2, 2]]), [[0, 1], [1, 0], [2, 2]])
    }

    func testRectangularMatricesLeaveTheExtraRowsOrColumnsUnmatched() {
        XCTAssertEqual(pairs([[5, 1, 9]]), [[0, 1]])
        XCTAssertEqual(pairs([[5], [1], [9]]), [[1, 0]])
        XCTAssertEqual(pairs([[1, 2, 3, 4], [2, 1, 9, 9]]), [[0, 0], [1, 1]])
        // Row 3 could take either column at 2, but rows 1 and 2 at 1 each leave it out: 1 + 1 < 2 + 1.
        XCTAssertEqual(pairs([[9, 9], [1, 9], [9, 1], [2, 2]]), [[1, 0], [2, 1]])
    }

    func testInfeasibleAndOverLimitPairsAreNeverMatched() {
        let inf = Double.infinity
        XCTAssertEqual(pairs([[inf, inf], [inf, inf]]), [])
        XCTAssertEqual(pairs([[inf, 1], [inf, 2]]), [[0, 1]])
        XCTAssertEqual(pairs([[.nan, 1]]), [[0, 1]])
        // At or above the limit: unmatched, even when it is the only entry.
        XCTAssertEqual(pairs([[0.8]], limit: 0.8), [])
        XCTAssertEqual(pairs([[0.79]], limit: 0.8), [[0, 0]])
        // A cheap pair is not given up for a forbidden one.
        XCTAssertEqual(pairs([[0.1, inf], [0.2, inf]], limit: 1), [[0, 0]])
    }

    func testEmptyMatrices() {
        XCTAssertTrue(LinearAssignment.solve(cost: [], rows: 0, columns: 3, limit: 1).isEmpty)
        XCTAssertTrue(LinearAssignment.solve(cost: [], rows: 2, columns: 0, limit: 1).isEmpty)
    }

    func testTiesGoToTheLowerIndexEveryTime() {
        let equal = [[1.0, 1.0], [1.0, 1.0]]
        let first = pairs(equal)
        for _ in 0..<5 { XCTAssertEqual(pairs(equal), first) }
        XCTAssertEqual(first.count, 2)
    }

    /// Against every injective partial assignment of random 1…5 × 1…5 matrices with forbidden entries: the same
    /// total cost (the assignment itself may differ on ties) and only allowed pairs.
    func testMatchesExhaustiveSearchOnRandomMatrices() {
        var rng = SplitMix64(seed: 2024)
        for trial in 0..<300 {
            let rows = Int(rng.next() % 5) + 1, columns = Int(rng.next() % 5) + 1
            let limit = 0.7
            let cost = (0..<rows * columns).map { _ -> Double in
                rng.next() % 5 == 0 ? .infinity : Double(rng.next() % 1000) / 1000
            }
            let got = LinearAssignment.solve(cost: cost, rows: rows, columns: columns, limit: limit)
            for p in got { XCTAssertLessThan(cost[p.row * columns + p.column], limit) }
            XCTAssertEqual(Set(got.map(\.column)).count, got.count, "trial \(trial): a column used twice")
            // Objective: matched cost + limit for each unmatched row (as in the extended problem, where an
            // unmatched row and an unmatched column cost limit/2 each).
            func objective(_ chosen: [(Int, Int)]) -> Double {
                chosen.reduce(0) { $0 + cost[$1.0 * columns + $1.1] }
                    + Double(rows - chosen.count) * limit / 2 + Double(columns - chosen.count) * limit / 2
            }
            var best = Double.infinity
            func search(_ row: Int, _ used: Set<Int>, _ chosen: [(Int, Int)]) {
                if row == rows { best = min(best, objective(chosen)); return }
                search(row + 1, used, chosen)
                for c in 0..<columns where !used.contains(c) && cost[row * columns + c] < limit {
                    search(row + 1, used.union([c]), chosen + [(row, c)])
                }
            }
            search(0, [], [])
            XCTAssertEqual(objective(got.map { ($0.row, $0.column) }), best, accuracy: 1e-9, "trial \(trial)")
        }
    }
}
