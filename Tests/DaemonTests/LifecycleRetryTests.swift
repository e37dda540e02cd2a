// Lifecycle events the sinks refuse (a full disk: here the file-size limit, which fails write(2) with EFBIG as
// ENOSPC would) wait and are written, in order, once the sinks take writes again.
import Foundation
import Glibc
import Logging
import TestSupport
import XCTest

@testable import Daemon
@testable import Pipeline

final class LifecycleRetryTests: XCTestCase {
    func testRefusedLifecycleEventsWaitAndAreWrittenInOrder() throws {
        let scratch = try TemporaryDirectory("lifecycle")
        defer { scratch.remove() }
        let folder = scratch.url
        let log = folder.appendingPathComponent("events.jsonl").path
        let output = try Output(sinks: [.jsonl(JSONLSinkOptions(path: log))], metrics: Metrics(),
                                logger: Logger(label: "test"))
        let holder = OutputHolder(output)
        func event(_ kind: LifecycleEvent.Kind, _ media: String) -> LifecycleEvent {
            LifecycleEvent(ts: Date(), source: "inbox", kind: kind, media: media)
        }
        try holder.write(event(.sourceUp, "first"))
        let before = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)

        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var oldLimit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &oldLimit)
        var limit = oldLimit
        limit.rlim_cur = rlim_t(before)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit), 0)
        XCTAssertThrowsError(try holder.write(event(.sourceDown, "second")))
        XCTAssertThrowsError(try holder.write(event(.sourceUp, "third")))
        XCTAssertEqual(holder.retryWaiting(), 2, "both still wait while the disk is full")
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &oldLimit)
        signal(SIGXFSZ, oldHandler)

        XCTAssertEqual(holder.retryWaiting(), 0)
        try holder.write(event(.fileDone, "fourth"))
        try output.close()
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        let media = lines.compactMap { line -> String? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["media"] as? String
        }
        XCTAssertEqual(media, ["first", "second", "third", "fourth"], "every event once, in order, no torn line")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(holder.droppedLifecycleEvents, 0)
    }
}
