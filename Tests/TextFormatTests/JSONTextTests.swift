// The shared JSON string escaper and decimal format, against Foundation's encoder and printf.
import Foundation
import TextFormat
import XCTest

final class JSONTextTests: XCTestCase {
    /// Every ASCII character alone and inside text, plus non-ASCII, against `JSONEncoder` (the plain reference
    /// `classify --json` and `dataset` used before).
    func testJSONStringMatchesJSONEncoderWithoutEscapingSlashes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        var samples = (0..<0x80).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["", "wave", "a/b\\c\"d", "line\nbreak\ttab\r\u{8}\u{C}", "é ü 日本 🙂", "\u{7F}\u{2028}\u{0}x"]
        for text in samples {
            let expected = String(decoding: try encoder.encode(text), as: UTF8.self)
            XCTAssertEqual(jsonString(text), expected, "\(Array(text.unicodeScalars.map(\.value)))")
        }
        XCTAssertEqual(jsonString("\u{1}"), "\"\\u0001\"")
        XCTAssertEqual(jsonString("\u{1F}"), "\"\\u001f\"")
    }

    /// `decimal` is printf's `%.Nf` except that it never prints minus zero and writes non-finite values as null.
    func testDecimalMatchesPrintfAndNeverPrintsMinusZero() {
        var state: UInt64 = 5
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let v = Double(state >> 11) / Double(1 << 53) * 4000 - 2000
            XCTAssertEqual(decimal(v, digits: 2), String(format: "%.2f", v))
            XCTAssertEqual(decimal(v, digits: 4), String(format: "%.4f", v))
        }
        XCTAssertEqual(decimal(-0.001, digits: 2), "0.00")
        XCTAssertEqual(decimal(-0.0, digits: 3), "0.000")
        XCTAssertEqual(decimal(0, digits: 4), "0.0000")
        XCTAssertEqual(decimal(12, digits: 0), "12")
        XCTAssertEqual(decimal(-3.5, digits: 2), "-3.50")
        XCTAssertEqual(decimal(1e20, digits: 1), "100000000000000000000.0")
        XCTAssertEqual(decimal(.nan, digits: 3), "null")
        XCTAssertEqual(decimal(-.infinity, digits: 3), "null")
    }
}
