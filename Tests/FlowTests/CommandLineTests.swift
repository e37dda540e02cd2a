// End to end: `actiond flow` and `actiond bench flow` as a user runs them (needs ACTIOND_BIN, which
// `make test` sets; skipped otherwise).
import Foundation
import TestSupport
import XCTest
@testable import Flow

final class CommandLineTests: XCTestCase {
    func testFlowCommand() throws {
        guard let binary = ProcessInfo.processInfo.environment["ACTIOND_BIN"] else {
            throw XCTSkip("ACTIOND_BIN not set (make test sets it)")
        }
        let scratch = try TemporaryDirectory("flow-cli")
        defer { scratch.remove() }
        let dir = scratch.path
        let clip = dir + "/clip.mp4"
        let made = try runProcess(binary, ["testclip", clip, "--size", "160x120", "--fps", "25", "--seconds", "1"])
        XCTAssertEqual(made.status, 0, made.stderr)

        for method in ["dis", "farneback"] {
            let out = dir + "/\(method).npy", png = dir + "/\(method).png"
            let result = try runProcess(binary, ["flow", clip, "--pair", "2,3", "--out", out, "--png", png,
                                          "--method", method])
            XCTAssertEqual(result.status, 0, result.stderr)
            let field = try FlowField(npy: try Data(contentsOf: URL(fileURLWithPath: out)), path: out)
            XCTAssertEqual(field.width, 160)
            XCTAssertEqual(field.height, 120)
            XCTAssertTrue(field.isFinite)
            let pngBytes = try Data(contentsOf: URL(fileURLWithPath: png))
            XCTAssertEqual(Array(pngBytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        }
        // Two stills: frames written by `actiond frames`.
        XCTAssertEqual(try runProcess(binary, ["frames", clip, "--out", dir + "/frames", "--quiet"]).status, 0)
        let still = try runProcess(binary, ["flow", dir + "/frames/frame-000002.png", dir + "/frames/frame-000003.png",
                                     "--out", dir + "/still.npy", "--preset", "ultrafast"])
        XCTAssertEqual(still.status, 0, still.stderr)

        let tooFew = try runProcess(binary, ["flow", clip, "--pair", "2,999", "--out", dir + "/x.npy"])
        XCTAssertEqual(tooFew.status, 1)
        XCTAssertTrue(tooFew.stderr.hasPrefix("error: "), tooFew.stderr)
        XCTAssertEqual(tooFew.stderr.split(separator: "\n").count, 1, tooFew.stderr)
        XCTAssertEqual(try runProcess(binary, ["flow", clip, "--out", dir + "/x.npy"]).status, 2)
        XCTAssertEqual(try runProcess(binary, ["flow", clip, "--pair", "a,b", "--out", dir + "/x.npy"]).status, 2)
    }

    func testBenchFlowPrintsJSON() throws {
        guard let binary = ProcessInfo.processInfo.environment["ACTIOND_BIN"] else {
            throw XCTSkip("ACTIOND_BIN not set (make test sets it)")
        }
        let result = try runProcess(binary, ["bench", "flow", "--size", "96x64", "--preset", "ultrafast", "--runs", "3",
                                      "--epe", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["method"] as? String, "dis-ultrafast")
        XCTAssertNotNil(object?["median_ms"] as? Double)
        XCTAssertLessThan(try XCTUnwrap(object?["epe_mean"] as? Double), 1)
    }
}
