// What the daemon says when a file operation fails, and how it shows names: one line of what, which file and why
// (never a Foundation error dump), names with control characters escaped, sidecar names that fit a file system.
import Foundation
import Glibc
import TestSupport
import XCTest

@testable import Daemon

final class ErrorTextTests: XCTestCase {
    var scratch: TemporaryDirectory!
    var folder: String { scratch.path }

    override func setUpWithError() throws {
        scratch = try TemporaryDirectory("error-text")
        try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/a-file"))
        try Data("video".utf8).write(to: URL(fileURLWithPath: folder + "/clip.mp4"))
    }

    override func tearDownWithError() throws { scratch?.remove() }

    func assertOneClearLine(_ text: String, contains expected: String, file: StaticString = #filePath,
                            line: UInt = #line) {
        XCTAssertTrue(text.contains(expected), text, file: file, line: line)
        XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
        XCTAssertFalse(text.contains("Domain="), text, file: file, line: line)
        XCTAssertFalse(text.contains("UserInfo"), text, file: file, line: line)
    }

    func testFailedMovesSayWhichFolderAndWhy() throws {
        XCTAssertThrowsError(try moveAside(folder + "/clip.mp4", into: folder + "/a-file")) { error in
            XCTAssertEqual("\(error)", "is a file, not a folder")
        }
        XCTAssertThrowsError(try moveAside(folder + "/clip.mp4", into: folder + "/a-file/sub")) { error in
            assertOneClearLine("\(error)", contains: "\(folder)/a-file: is a file, not a folder")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/clip.mp4"), "nothing moved")
        XCTAssertThrowsError(try JSONLSink(path: folder + "/a-file/log/events.jsonl")) { error in
            assertOneClearLine("\(error)", contains: "\(folder)/a-file/log/events.jsonl: open failed: Not a directory")
        }
        XCTAssertThrowsError(try Journal(path: folder + "/a-file/state/journal.sqlite")) { error in
            assertOneClearLine("\(error)", contains: "\(folder)/a-file: is a file, not a folder")
        }
        XCTAssertThrowsError(try makeFolders("/proc/actiond-no-such/x")) { error in
            assertOneClearLine("\(error)", contains: "/proc/actiond-no-such: cannot create it: ")
        }
    }

    /// A name at the file system's limit moves, and is moved again as `stem-1.ext` cut to fit; its sidecar name is
    /// cut short with a hash, still unique per name.
    func testLongNamesFit() throws {
        let long = String(repeating: "é", count: 120) + "-end.mp4"  // 248 bytes
        XCTAssertLessThanOrEqual(long.utf8.count, 255)
        for _ in 0..<2 {
            try Data("v".utf8).write(to: URL(fileURLWithPath: folder + "/" + long))
            let moved = try moveAside(folder + "/" + long, into: folder + "/q")
            XCTAssertLessThanOrEqual((moved as NSString).lastPathComponent.utf8.count, 255)
            let sidecar = FileProcessor.sidecarPath(for: moved)
            let name = (sidecar as NSString).lastPathComponent
            XCTAssertLessThanOrEqual(name.utf8.count, 255, name)
            XCTAssertTrue(name.hasSuffix(".error.json"))
            XCTAssertTrue(FileManager.default.createFile(atPath: sidecar, contents: Data("{}".utf8)), sidecar)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder + "/q").count, 4)
        XCTAssertEqual(FileProcessor.sidecarPath(for: folder + "/q/short.mp4"), folder + "/q/short.mp4.error.json")
    }

    func testNamesWithControlCharactersAreEscapedInLogText() {
        XCTAssertEqual("/in/new\nline.mp4".loggable, "/in/new\\nline.mp4")
        XCTAssertEqual("a\tb\r\u{1b}[31m.mp4".loggable, "a\\tb\\r\\u{1b}[31m.mp4")
        XCTAssertEqual("/in/plain é.mp4".loggable, "/in/plain é.mp4")
        let reason = "cannot open '/in/a\nb.mp4': not a video\n  code: not-a-video"
        XCTAssertEqual(reason.loggable(replacing: "/in/a\nb.mp4"),
                       "cannot open '/in/a\\nb.mp4': not a video\n  code: not-a-video", "details stay indented lines")
        XCTAssertEqual("ééé".truncatedToUTF8(5), "éé")
    }
}
