// Head layouts and the shape check a model's output goes through before it is decoded.
import Vision
import Vocabulary
import XCTest

final class HeadFormatTests: XCTestCase {
    func testRowsAndLayouts() throws {
        XCTAssertEqual(HeadFormat.cocoDetect.rows, 84)
        XCTAssertEqual(HeadFormat.cocoPose.rows, 56)
        XCTAssertEqual(try HeadFormat.pose(keypoints: 17, dimensions: 2).rows, 39)
        XCTAssertEqual(try HeadFormat.pose(classes: 2).keypointRow(1), 4 + 2 + 3)
        XCTAssertEqual(try HeadFormat.detect(classes: 80), .cocoDetect)
        XCTAssertEqual(try HeadFormat.pose(), .cocoPose)
        XCTAssertEqual(try HeadFormat.cocoDetect.anchorCount(ofShape: [1, 84, 8400]), 8400)
        XCTAssertEqual(try HeadFormat.cocoPose.anchorCount(ofShape: [56, 2100]), 2100)
        // Symbolic batch and anchor axes (a graph's declared output) pass; N is then unknown.
        XCTAssertNil(try HeadFormat.cocoPose.anchorCount(ofShape: [nil, 56, nil]))
        XCTAssertEqual(try HeadFormat.cocoPose.anchorCount(ofShape: [nil, 56, 2100]), 2100)
    }

    func testInvalidLayoutsAreRefused() {
        for make in [{ try HeadFormat.detect(classes: 0) }, { try HeadFormat.pose(keypoints: 17, dimensions: 4) },
                     { try HeadFormat.pose(keypoints: 0) },
                     { try HeadFormat(classes: 1, keypoints: 0, keypointDimensions: 3) }] as [() throws -> HeadFormat]
        {
            XCTAssertThrowsError(try make()) { error in
                XCTAssertEqual((error as? HeadFormatError)?.code, .invalidFormat, "\(error)")
            }
        }
    }

    func testPoseCardOnDetectOutput() {
        // The card says pose with 17 keypoints, the graph is an 80-class detector.
        XCTAssertThrowsError(try HeadFormat.cocoPose.anchorCount(ofShape: [1, 84, 8400])) { error in
            guard let e = error as? HeadFormatError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.code, .shapeMismatch)
            XCTAssertEqual(e.format, .cocoPose)
            XCTAssertEqual(e.shape, [1, 84, 8400])
            XCTAssertEqual(e.message,
                           "the card declares pose with 1 class and 17 keypoints × 3 (56 rows: 4 box + 1 class score "
                           + "+ 51 keypoint values), so the output should be [1, 56, N]; its shape is "
                           + "[1, 84, 8400]: 84 rows, not 56 (84 rows fit detect with 80 classes)")
        }
    }

    func testDetectCardOnPoseOutput() {
        XCTAssertThrowsError(try HeadFormat.cocoDetect.anchorCount(ofShape: [1, 56, 2100])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("should be [1, 84, N]"), text)
            XCTAssertTrue(text.contains("56 rows fit pose with 1 class and 17 keypoints × 3"), text)
        }
    }

    func testOtherShapesAreExplained() {
        func message(_ format: HeadFormat, _ shape: [Int?]) -> String {
            do {
                try format.anchorCount(ofShape: shape)
                return "no error"
            } catch {
                return error.message
            }
        }
        XCTAssertTrue(message(.cocoDetect, [1, 8400, 84]).contains("last two axes look swapped"))
        XCTAssertTrue(message(.cocoDetect, [1, 300, 6]).contains("NMS inside"))
        XCTAssertTrue(message(.cocoPose, [1, 300, 57]).contains("NMS inside"))
        XCTAssertTrue(message(.cocoDetect, [2, 84, 8400]).contains("batch 2"))
        XCTAssertTrue(message(.cocoDetect, [84]).contains("1 dimensions, not 3"))
        XCTAssertTrue(message(.cocoDetect, [1, 84, 0]).contains("no anchors"))
    }

    func testDecoderChecksShapeAndLength() {
        var decoder = DetectionDecoder(format: .cocoPose)
        let geometry = InputGeometry.letterbox(source: PixelSize(width: 640, height: 480),
                                               input: PixelSize(width: 320, height: 320))
        XCTAssertThrowsError(try decoder.decode([Float](repeating: 0, count: 84 * 10), shape: [1, 84, 10],
                                                geometry: geometry)) { error in
            XCTAssertEqual((error as? HeadFormatError)?.code, .shapeMismatch)
        }
        XCTAssertThrowsError(try decoder.decode([Float](repeating: 0, count: 56 * 10 - 1), shape: [1, 56, 10],
                                                geometry: geometry)) { error in
            XCTAssertEqual((error as? HeadFormatError)?.code, .valueCount)
        }
    }
}
