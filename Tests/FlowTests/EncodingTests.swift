// Flow encoding for networks (bound, uint8/float mapping, stacking order, mean motion), the colour wheel, and
// the .npy writer.
import Foundation
import XCTest
@testable import Flow

final class EncodingTests: XCTestCase {
    func testByteMappingMatchesTSNConvention() {
        let encoding = FlowEncoding()  // bound 20
        XCTAssertEqual(encoding.byte(0), 128)
        XCTAssertEqual(encoding.byte(-20), 0)
        XCTAssertEqual(encoding.byte(20), 255)
        XCTAssertEqual(encoding.byte(-100), 0)
        XCTAssertEqual(encoding.byte(100), 255)
        XCTAssertEqual(encoding.byte(.nan), 128)
        // Linear in between: (v + 20) * 255 / 40, rounded.
        for v in stride(from: Float(-19.5), through: 19.5, by: 0.75) {
            XCTAssertEqual(Int(encoding.byte(v)), Int(((v + 20) * 255 / 40).rounded()), "\(v)")
        }
        XCTAssertEqual(FlowEncoding(bound: 5).byte(5), 255)
        XCTAssertEqual(encoding.scaled(10), 0.5)
        XCTAssertEqual(encoding.scaled(-30), -1)
    }

    func testStackingOrderAndMeanMotion() {
        // Two 2×1 fields with distinct values so the channel order is visible.
        let f1 = FlowField(width: 2, height: 1, values: [1, 2, 3, 4])   // x = [1, 3], y = [2, 4]
        let f2 = FlowField(width: 2, height: 1, values: [-1, -2, -3, -4])
        let encoding = FlowEncoding(bound: 10)
        XCTAssertEqual(encoding.floats([f1, f2]), [0.1, 0.3, 0.2, 0.4, -0.1, -0.3, -0.2, -0.4])
        XCTAssertEqual(encoding.bytes([f1, f2]).count, 8)
        XCTAssertEqual(encoding.bytes([f1, f2])[0], encoding.byte(1))
        XCTAssertEqual(encoding.bytes([f1, f2])[2], encoding.byte(2))
        let centred = FlowEncoding(bound: 10, meanSubtraction: .perField)
        XCTAssertEqual(centred.floats([f1]), [-0.1, 0.1, -0.1, 0.1])
        // Per stack: one mean over both fields — here (0, 0), so nothing changes; with f1 twice, (2, 3).
        let stack = FlowEncoding(bound: 10, meanSubtraction: .perStack)
        XCTAssertEqual(stack.floats([f1, f2]), encoding.floats([f1, f2]))
        XCTAssertEqual(stack.floats([f1, f1]), [-0.1, 0.1, -0.1, 0.1, -0.1, 0.1, -0.1, 0.1])
        let f3 = FlowField(width: 2, height: 1, values: [3, 4, 5, 6])  // mean (4, 5); stack mean with f1: (3, 4)
        XCTAssertEqual(stack.floats([f1, f3]), [-0.2, 0, -0.2, 0, 0, 0.2, 0, 0.2])
        XCTAssertEqual(FlowEncoding.meanMotion(f1), SIMD2(2, 3))
        XCTAssertEqual(encoding.floats([]), [])
    }

    func testColourWheel() {
        // Right = red, down (+y) = a quarter turn = chartreuse/green side, zero = white, left = cyan.
        let field = FlowField(width: 4, height: 1, values: [0, 0, 1, 0, 0, 1, -1, 0])
        let rgb = FlowVisualization.rgb(field)
        XCTAssertEqual(Array(rgb[0..<3]), [255, 255, 255])
        XCTAssertEqual(Array(rgb[3..<6]), [255, 0, 0])
        XCTAssertEqual(Int(rgb[6]), 128, accuracy: 1)  // half-way between red and green: 127.5 either way
        XCTAssertEqual(Array(rgb[7..<9]), [255, 0])
        XCTAssertEqual(Array(rgb[9..<12]), [0, 255, 255])
        // Half the reference speed: half saturation.
        XCTAssertEqual(Array(FlowVisualization.rgb(FlowField(width: 1, height: 1, values: [1, 0]), maxMagnitude: 2)),
                       [255, 128, 128])
        XCTAssertEqual(FlowVisualization.rgb(FlowField(width: 2, height: 2)), [UInt8](repeating: 255, count: 12))
    }

    func testNPYRoundTripAndHeader() throws {
        let field = FlowField(width: 3, height: 2, values: (0..<12).map { Float($0) * 0.5 - 1 })
        let data = field.npyData()
        XCTAssertEqual(Array(data.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: data[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f4'"))
        XCTAssertTrue(header.contains("'shape': (2, 3, 2)"))
        XCTAssertEqual(data.count, 10 + headerLength + 48)
        XCTAssertEqual(try FlowField(npy: data), field)
        let image = GrayImage(width: 2, height: 2, pixels: [0, 1.4, 254.6, 300]).npyData()
        XCTAssertEqual(Array(image.suffix(4)), [0, 1, 255, 255])
    }
}
