// Inputs at the edges of the domain: identical and constant frames, tiny and odd sizes, mismatched sizes.
import XCTest
@testable import Flow

final class EdgeCaseTests: XCTestCase {
    static let estimators: [(String, OpticalFlow)] = DISPreset.allCases.map {
        ("dis-\($0.rawValue)", OpticalFlow(method: .dis, preset: $0))
    } + [("farneback", OpticalFlow(method: .farneback))]

    static func textured(_ w: Int, _ h: Int, shift: (Float, Float) = (0, 0)) -> GrayImage {
        let texture = SyntheticTexture(width: max(w, 16), height: max(h, 16))
        return GrayImage(width: w, height: h, pixels: (0..<(w * h)).map {
            texture.intensity(Float($0 % w) - shift.0, Float($0 / w) - shift.1).rounded()
        })
    }

    func testIdenticalFramesGiveZeroFlow() throws {
        let image = Self.textured(320, 240)
        for (label, estimator) in Self.estimators {
            let field = try estimator.flow(from: image, to: image)
            let worst = field.values.map { abs($0) }.max()!
            XCTAssertLessThan(worst, 0.02, label)
        }
    }

    func testConstantFramesAreFiniteAndStill() throws {
        for (w, h) in [(320, 240), (8, 8), (37, 23)] {
            let a = GrayImage(width: w, height: h, value: 90), b = GrayImage(width: w, height: h, value: 90)
            let brighter = GrayImage(width: w, height: h, value: 140)
            for (label, estimator) in Self.estimators {
                for second in [b, brighter] {
                    let field = try estimator.flow(from: a, to: second)
                    XCTAssertTrue(field.isFinite, "\(label) \(w)x\(h)")
                    XCTAssertLessThan(field.values.map { abs($0) }.max()!, 1e-3, "\(label) \(w)x\(h)")
                }
            }
        }
    }

    /// 8×8 is smaller than one DIS level below full resolution: the whole computation runs at level 0 with one
    /// patch; sizes below the patch shrink it. Output is finite, full size, and near the true shift.
    func testTinyImages() throws {
        for (w, h) in [(8, 8), (5, 9), (1, 1), (2, 7), (12, 3)] {
            let a = Self.textured(w, h), b = Self.textured(w, h, shift: (0.5, 0.25))
            for (label, estimator) in Self.estimators {
                let field = try estimator.flow(from: a, to: b)
                XCTAssertEqual(field.width, w)
                XCTAssertEqual(field.height, h)
                XCTAssertTrue(field.isFinite, "\(label) \(w)x\(h)")
                XCTAssertLessThan(field.values.map { abs($0) }.max()!, 3, "\(label) \(w)x\(h)")
            }
        }
        let empty = try OpticalFlow().flow(from: GrayImage(width: 0, height: 0), to: GrayImage(width: 0, height: 0))
        XCTAssertEqual(empty.values.count, 0)
    }

    /// Sizes that are not multiples of the patch stride or of 2^levels: every pixel still gets a flow.
    func testOddSizes() throws {
        for (w, h) in [(101, 77), (333, 131), (64, 250)] {
            let a = Self.textured(w, h), b = Self.textured(w, h, shift: (1.3, -0.8))
            let truth = FlowField(width: w, height: h, values: (0..<(2 * w * h)).map { $0 % 2 == 0 ? 1.3 : -0.8 })
            let mask = truth.targetsInsideFrame()
            for (label, estimator) in Self.estimators {
                let field = try estimator.flow(from: a, to: b)
                XCTAssertTrue(field.isFinite, label)
                XCTAssertLessThan(field.endpointError(to: truth, mask: mask), 0.35, "\(label) \(w)x\(h)")
            }
        }
    }

    func testScalePlanBelowSmallestLevel() {
        let ultrafast = DISOpticalFlow(preset: .ultrafast)
        // 640×480: coarsest from the paper's rule (quarter-frame motion), finest from the preset.
        XCTAssertTrue(ultrafast.scalePlan(width: 640, height: 480) == (8, 4, 2))
        // 40×30: only one level holds a patch; the finest scale (2) is clamped to it.
        XCTAssertTrue(ultrafast.scalePlan(width: 40, height: 30) == (8, 0, 0))
        // 6×20: narrower than a patch: the patch shrinks to 6.
        XCTAssertTrue(ultrafast.scalePlan(width: 6, height: 20) == (6, 0, 0))
    }

    func testMismatchedSizesThrow() {
        let a = GrayImage(width: 10, height: 10), b = GrayImage(width: 10, height: 11)
        for (label, estimator) in Self.estimators {
            XCTAssertThrowsError(try estimator.flow(from: a, to: b), label) { error in
                XCTAssertEqual(error as? FlowError, .sizeMismatch(first: (10, 10), second: (10, 11)))
            }
            XCTAssertThrowsError(try estimator.flow(from: a, to: a, initial: FlowField(width: 3, height: 3)), label)
        }
    }
}
