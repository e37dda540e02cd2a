// The jsonl sink on real files: whole lines under concurrent writers, fsync policies, size rotation without loss or
// duplication, keep limits, torn-tail repair at open, reopen after an external rename, and failed writes that
// leave no partial line. Also the stdout sink on a real pipe.
import Foundation
import Synchronization
import XCTest

@testable import Daemon

#if canImport(Glibc)
import Glibc
#endif

/// A monotonic clock the test moves by hand, so the interval policy is checked without waiting.
private final class ManualClock: Sendable {
    private let now = Mutex(0.0)
    func set(_ seconds: Double) { now.withLock { $0 = seconds } }
    func read() -> Double { now.withLock { $0 } }
}

final class JSONLSinkTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "/jsonl-sink-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func event(writer: Int, index: Int, label: String? = nil) -> ActionEvent {
        ActionEvent(
            ts: Date(timeIntervalSince1970: 1_795_255_203.12 + Double(index)), source: "src-\(writer)",
            media: "/var/lib/actiond/inbox/clip-\(writer).mp4", track: index, label: label ?? "w\(writer)",
            score: 0.5 + Double(index % 50) / 100, start: Double(index) * 0.5, end: Double(index) * 0.5 + 2,
            box: [10, 20, 30.5, 40], model: "actions-r2plus1d", modelSHA256: String(repeating: "ab", count: 32))
    }

    private func lines(of path: String) throws -> [String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard !text.isEmpty else { return [] }
        XCTAssertTrue(text.hasSuffix("\n"), "\(path) does not end in a newline")
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// (writer, index) of an action line written by `event(writer:index:)`; fails the test if it does not parse.
    private func identity(of line: String, file: StaticString = #filePath, line number: UInt = #line) -> [Int]? {
        guard let data = line.data(using: .utf8),
            let fields = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let label = fields["label"] as? String, let writer = Int(label.dropFirst()),
            let index = (fields["track"] as? NSNumber)?.intValue
        else {
            XCTFail("line does not parse: \(line)", file: file, line: number)
            return nil
        }
        return [writer, index]
    }

    private func fileSize(_ path: String) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? -1
    }

    func testAppendsWholeLinesAndCreatesMissingFoldersWithMode0640() throws {
        let path = folder + "/a/b/actions.jsonl"
        let sink = try JSONLSink(path: path)
        try sink.write("{\"n\":1}")
        try sink.write(Self.event(writer: 0, index: 1))
        try sink.write(LifecycleEvent(ts: Date(timeIntervalSince1970: 0), source: "inbox", kind: .sourceUp))
        try sink.close()
        XCTAssertEqual(
            try lines(of: path),
            [
                "{\"n\":1}", Self.event(writer: 0, index: 1).jsonLine,
                #"{"v":1,"ts":"1970-01-01T00:00:00.000Z","source":"inbox","event":"source_up"}"#,
            ])
        let mask = umask(0o022)
        umask(mask)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o640 & ~Int(mask))
        XCTAssertEqual(sink.linesWritten, 3)

        // Opening again appends after what is there; nothing needed repair.
        let again = try JSONLSink(path: path)
        try again.write("{\"n\":4}")
        try again.close()
        XCTAssertEqual(try lines(of: path).count, 4)
        XCTAssertEqual(again.repairedBytes, 0)
    }

    func testDroppingASinkClosesItsDescriptor() throws {
        func openDescriptors() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        }
        let before = try openDescriptors()
        var sink: JSONLSink? = try JSONLSink(path: folder + "/d.jsonl", flush: .interval(seconds: 60))
        try sink?.write("{\"a\":1}")
        XCTAssertEqual(try openDescriptors(), before + 1)
        sink = nil
        XCTAssertEqual(try openDescriptors(), before)
        XCTAssertEqual(try lines(of: folder + "/d.jsonl"), ["{\"a\":1}"])
    }

    func testEveryEventPolicyFsyncsEachLine() throws {
        let sink = try JSONLSink(path: folder + "/e.jsonl", flush: .everyEvent)
        for index in 0..<5 { try sink.write(Self.event(writer: 0, index: index)) }
        XCTAssertEqual(sink.syncs, 5)
        try sink.flushIfDue()
        try sink.sync()
        try sink.close()
        XCTAssertEqual(sink.syncs, 5, "nothing was waiting, so no further fsync")
    }

    func testIntervalPolicyFsyncsAtMostOncePerIntervalAndOnSyncAndClose() throws {
        let clock = ManualClock()
        let path = folder + "/i.jsonl"
        let sink = try JSONLSink(
            path: path, rotateSize: nil, keep: 10, flush: .interval(seconds: 10), clock: { clock.read() })
        for index in 0..<3 { try sink.write(Self.event(writer: 0, index: index)) }
        XCTAssertEqual(sink.syncs, 0)
        // The data is in the file (page cache) before any fsync.
        XCTAssertEqual(try lines(of: path).count, 3)
        clock.set(5)
        try sink.flushIfDue()
        XCTAssertEqual(sink.syncs, 0, "interval not yet passed")
        clock.set(10)
        try sink.flushIfDue()
        XCTAssertEqual(sink.syncs, 1)
        clock.set(30)
        try sink.flushIfDue()
        XCTAssertEqual(sink.syncs, 1, "nothing written since the last fsync")
        clock.set(31)
        try sink.write(Self.event(writer: 0, index: 3))
        XCTAssertEqual(sink.syncs, 2, "a write long after the last fsync is synced at once")
        clock.set(32)
        try sink.write(Self.event(writer: 0, index: 4))
        try sink.flushIfDue()
        XCTAssertEqual(sink.syncs, 2)
        try sink.sync()
        XCTAssertEqual(sink.syncs, 3)
        try sink.write(Self.event(writer: 0, index: 5))
        try sink.close()
        XCTAssertEqual(sink.syncs, 4, "close fsyncs what is waiting")
        XCTAssertEqual(try lines(of: path).count, 6)
    }

    func testRotationUnderLoadLosesAndDuplicatesNothing() throws {
        let path = folder + "/actions.jsonl"
        let limit: Int64 = 64 * 1024
        let sink = try JSONLSink(path: path, rotateSize: limit, keep: 500, flush: .interval(seconds: 3600))
        let writers = 4
        let perWriter = 5000
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            for index in 0..<perWriter {
                do { try sink.write(Self.event(writer: writer, index: index)) } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        try sink.close()
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertEqual(sink.linesWritten, writers * perWriter)

        let rotated = sink.rotations
        XCTAssertGreaterThan(rotated, 20)
        // With a long interval the only fsyncs are the one before each rotation and the one at close.
        XCTAssertEqual(sink.syncs, rotated + 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(path).\(rotated + 1)"))
        // Oldest first: path.N … path.1, then path.
        let files = stride(from: rotated, through: 1, by: -1).map { "\(path).\($0)" } + [path]
        var nextIndex = [Int](repeating: 0, count: writers)
        var seen = 0
        for file in files {
            XCTAssertLessThanOrEqual(try fileSize(file), limit, file)
            let fileLines = try lines(of: file)
            XCTAssertFalse(fileLines.isEmpty, "\(file) is empty")
            for line in fileLines {
                guard let id = identity(of: line) else { continue }
                // Each writer's lines appear in the order written, each exactly once, across all files.
                XCTAssertEqual(id[1], nextIndex[id[0]], "writer \(id[0]) out of order or duplicated in \(file)")
                nextIndex[id[0]] = id[1] + 1
                seen += 1
            }
        }
        XCTAssertEqual(seen, writers * perWriter)
        XCTAssertEqual(nextIndex, [Int](repeating: perWriter, count: writers))
    }

    func testKeepDeletesOlderFilesIncludingLeftoversFromALargerKeep() throws {
        let path = folder + "/k.jsonl"
        try "{\"old\":7}\n".write(toFile: "\(path).7", atomically: false, encoding: .utf8)
        try "{\"unrelated\":1}\n".write(toFile: "\(path).7.gz", atomically: false, encoding: .utf8)
        let lengths = (0..<30).map { Self.event(writer: 1, index: $0).jsonLine.utf8.count + 1 }
        // Room for three lines per file and never four.
        XCTAssertLessThan(lengths.max()! * 3, lengths.min()! * 4)
        let sink = try JSONLSink(
            path: path, rotateSize: Int64(lengths.max()! * 3), keep: 3, flush: .interval(seconds: 60))
        for index in 0..<30 { try sink.write(Self.event(writer: 1, index: index)) }
        try sink.close()
        XCTAssertEqual(sink.rotations, 9)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        XCTAssertEqual(names, ["k.jsonl", "k.jsonl.1", "k.jsonl.2", "k.jsonl.3", "k.jsonl.7.gz"])
        // What is kept is the newest lines, contiguous: 18…20 in .3, 21…23 in .2, 24…26 in .1, 27…29 in path.
        var indices: [Int] = []
        for file in ["\(path).3", "\(path).2", "\(path).1", path] {
            indices += try lines(of: file).compactMap { identity(of: $0)?[1] }
        }
        XCTAssertEqual(indices, Array(18..<30))
    }

    func testKeepZeroDiscardsTheFullFile() throws {
        let path = folder + "/z.jsonl"
        let sink = try JSONLSink(path: path, rotateSize: 300, keep: 0, flush: .everyEvent)
        for index in 0..<5 { try sink.write(Self.event(writer: 2, index: index)) }
        try sink.close()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["z.jsonl"])
        XCTAssertEqual(try lines(of: path).compactMap { identity(of: $0)?[1] }, [4])
    }

    func testALineLargerThanTheLimitGetsAFileOfItsOwn() throws {
        let path = folder + "/big.jsonl"
        let sink = try JSONLSink(path: path, rotateSize: 100, keep: 5)
        let big = "{\"pad\":\"" + String(repeating: "x", count: 300) + "\"}"
        try sink.write(big)
        try sink.write("{\"small\":1}")
        try sink.write("{\"small\":2}")
        try sink.close()
        XCTAssertEqual(try lines(of: path + ".1"), [big])
        XCTAssertEqual(try lines(of: path), ["{\"small\":1}", "{\"small\":2}"])
        XCTAssertEqual(sink.rotations, 1)
    }

    func testATornTailIsCutBackToTheLastNewlineAtOpen() throws {
        let path = folder + "/torn.jsonl"
        let whole = Self.event(writer: 3, index: 1).jsonLine + "\n" + Self.event(writer: 3, index: 2).jsonLine + "\n"
        try (whole + "{\"v\":1,\"ts").write(toFile: path, atomically: false, encoding: .utf8)
        let sink = try JSONLSink(path: path)
        XCTAssertEqual(sink.repairedBytes, "{\"v\":1,\"ts".utf8.count)
        try sink.write(Self.event(writer: 3, index: 3))
        try sink.close()
        XCTAssertEqual(try lines(of: path).compactMap { identity(of: $0)?[1] }, [1, 2, 3])

        // Zero bytes after the last line (a crash after the size grew but before the data landed) are cut too.
        try (whole + "\0\0\0\0").write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(try JSONLSink(path: path).repairedBytes, 4)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), whole)
    }

    func testATornTailLongerThanOneReadChunkAndAFileWithoutAnyNewline() throws {
        let path = folder + "/long.jsonl"
        let head = "{\"a\":1}\n"
        let tail = "{\"pad\":\"" + String(repeating: "y", count: 150_000)
        try (head + tail).write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(try JSONLSink(path: path).repairedBytes, tail.utf8.count)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), head)

        try String(repeating: "z", count: 70_000).write(toFile: path, atomically: false, encoding: .utf8)
        let sink = try JSONLSink(path: path)
        XCTAssertEqual(sink.repairedBytes, 70_000)
        XCTAssertEqual(try fileSize(path), 0)
        try sink.write("{\"b\":2}")
        XCTAssertEqual(try lines(of: path), ["{\"b\":2}"])
    }

    func testReopenAfterAnExternalRenameSendsLaterLinesToTheNewFile() throws {
        let path = folder + "/r.jsonl"
        let sink = try JSONLSink(path: path, flush: .interval(seconds: 60))
        for index in 0..<10 { try sink.write(Self.event(writer: 0, index: index)) }
        XCTAssertEqual(rename(path, path + ".old"), 0)
        // Until the reopen, lines follow the open descriptor into the moved file.
        for index in 10..<15 { try sink.write(Self.event(writer: 0, index: index)) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        try sink.reopen()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        for index in 15..<25 { try sink.write(Self.event(writer: 0, index: index)) }
        try sink.close()
        XCTAssertEqual(try lines(of: path + ".old").compactMap { identity(of: $0)?[1] }, Array(0..<15))
        XCTAssertEqual(try lines(of: path).compactMap { identity(of: $0)?[1] }, Array(15..<25))
    }

    func testReopenWhileWritersRunLosesNothing() throws {
        let path = folder + "/busy.jsonl"
        let sink = try JSONLSink(path: path, flush: .interval(seconds: 60))
        let writers = 2
        let perWriter = 3000
        let group = DispatchGroup()
        let failures = Mutex(0)
        for writer in 0..<writers {
            DispatchQueue.global().async(group: group) {
                for index in 0..<perWriter {
                    do { try sink.write(Self.event(writer: writer, index: index)) } catch {
                        failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        // Move the file away part way through, as logrotate does, then signal the sink.
        var polls = 0
        while sink.linesWritten < 500 && failures.withLock({ $0 }) == 0 && polls < 100_000 {
            usleep(100)
            polls += 1
        }
        XCTAssertEqual(rename(path, path + ".1"), 0)
        try sink.reopen()
        let writtenAtReopen = sink.linesWritten
        group.wait()
        try sink.close()
        XCTAssertEqual(failures.withLock { $0 }, 0)
        var nextIndex = [Int](repeating: 0, count: writers)
        for file in [path + ".1", path] {
            for line in try lines(of: file) {
                guard let id = identity(of: line) else { continue }
                XCTAssertEqual(id[1], nextIndex[id[0]], "writer \(id[0]) out of order or duplicated in \(file)")
                nextIndex[id[0]] = id[1] + 1
            }
        }
        XCTAssertEqual(nextIndex, [perWriter, perWriter])
        // The reopen really happened while the writers ran: lines went to both files.
        XCTAssertLessThan(writtenAtReopen, writers * perWriter)
        XCTAssertFalse(try lines(of: path).isEmpty, "nothing was written after the reopen")
        XCTAssertFalse(try lines(of: path + ".1").isEmpty)
    }

    func testAWriteCutShortByTheFileSizeLimitLeavesNoPartialLine() throws {
        let path = folder + "/limit.jsonl"
        let sink = try JSONLSink(path: path)
        try sink.write("{\"first\":1}")
        let before = try fileSize(path)
        // RLIMIT_FSIZE makes write(2) stop part way (short write) and then fail with EFBIG, as a full disk would.
        let oldHandler = signal(SIGXFSZ, SIG_IGN)
        var oldLimit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &oldLimit)
        var limit = oldLimit
        limit.rlim_cur = rlim_t(before + 10)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit), 0)
        var thrown: Error?
        do { try sink.write("{\"second\":\"" + String(repeating: "s", count: 100) + "\"}") } catch { thrown = error }
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &oldLimit)
        signal(SIGXFSZ, oldHandler)

        let sinkError = try XCTUnwrap(thrown as? SinkError)
        XCTAssertEqual(sinkError.operation, "write")
        XCTAssertEqual(sinkError.errorNumber, EFBIG)
        XCTAssertEqual(sinkError.path, path)
        XCTAssertTrue(sinkError.description.contains(path), sinkError.description)
        XCTAssertEqual(try fileSize(path), before, "the partial line was cut back")
        try sink.write("{\"third\":3}")
        try sink.close()
        XCTAssertEqual(try lines(of: path), ["{\"first\":1}", "{\"third\":3}"])
        XCTAssertEqual(sink.linesWritten, 2)
    }

    func testErrorsSayWhatWhereAndWhy() throws {
        let path = folder + "/x.jsonl"
        XCTAssertThrowsError(try JSONLSink(path: path, rotateSize: 0)) { error in
            XCTAssertTrue("\(error)".contains("rotate size"), "\(error)")
        }
        XCTAssertThrowsError(try JSONLSink(path: path, keep: -1))
        XCTAssertThrowsError(try JSONLSink(path: path, flush: .interval(seconds: -1)))
        XCTAssertThrowsError(try JSONLSink(path: ""))

        // A parent that is a file: the open fails with ENOTDIR and the error names the path.
        try "x".write(toFile: folder + "/plainfile", atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try JSONLSink(path: folder + "/plainfile/actions.jsonl")) { error in
            let sinkError = error as? SinkError
            XCTAssertEqual(sinkError?.operation, "open")
            XCTAssertEqual(sinkError?.errorNumber, ENOTDIR)
            XCTAssertTrue("\(error)".contains("plainfile/actions.jsonl"), "\(error)")
        }

        let sink = try JSONLSink(path: path)
        XCTAssertThrowsError(try sink.write("two\nlines")) { error in
            XCTAssertTrue("\(error)".contains("newline"), "\(error)")
        }
        try sink.close()
        try sink.close()
        XCTAssertThrowsError(try sink.write("{}")) { error in
            XCTAssertTrue("\(error)".contains("closed"), "\(error)")
        }
        XCTAssertThrowsError(try sink.reopen())
        XCTAssertEqual(try fileSize(path), 0)
    }

    func testStdoutSinkWritesWholeLinesFromConcurrentWriters() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let reader = ends[0]
        let sink = StdoutSink(format: .json, fileDescriptor: ends[1])
        let collected = Mutex<[UInt8]>([])
        let readerDone = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(reader, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                collected.withLock { $0 += buffer[0..<n] }
            }
            readerDone.signal()
        }
        // Some lines are longer than the pipe's capacity: the kernel splits them into several writes, so only the
        // sink's own lock keeps lines of different writers from interleaving.
        let longLabel = String(repeating: "L", count: 100_000)
        DispatchQueue.concurrentPerform(iterations: 3) { writer in
            for index in 0..<200 {
                let label = index % 10 == 0 ? "w\(writer)" + longLabel : "w\(writer)"
                try? sink.write(Self.event(writer: writer, index: index, label: label))
                if index % 50 == 0 {
                    try? sink.write(LifecycleEvent(ts: Date(), source: "src-\(writer)", kind: .fileDone))
                }
            }
        }
        XCTAssertEqual(Glibc.close(ends[1]), 0)
        readerDone.wait()
        Glibc.close(reader)
        let text = String(decoding: collected.withLock { $0 }, as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertTrue(text.hasSuffix("\n"))
        XCTAssertEqual(lines.count, 3 * 200 + 3 * 4)
        XCTAssertEqual(sink.linesWritten, lines.count)
        var actionLines = 0
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            XCTAssertNotNil(object, "torn or interleaved line: \(line.prefix(80))")
            if object?["label"] != nil { actionLines += 1 }
        }
        XCTAssertEqual(actionLines, 600)
    }

    func testStdoutSinkReportsAClosedReaderAsAnError() throws {
        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        Glibc.close(ends[0])
        let oldHandler = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, oldHandler) }
        let sink = StdoutSink(format: .text, fileDescriptor: ends[1])
        XCTAssertThrowsError(try sink.write(Self.event(writer: 0, index: 0))) { error in
            XCTAssertEqual((error as? SinkError)?.errorNumber, EPIPE)
        }
        Glibc.close(ends[1])
        XCTAssertEqual(sink.linesWritten, 0)
    }
}
