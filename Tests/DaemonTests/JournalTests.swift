// Tests of the journal on real SQLite files in a temp folder: SHA-256 against known vectors and sha256sum, file
// identities, restart and crash behaviour (a sqlite3 writer SIGKILLed mid-transaction), concurrency, corruption.

import Foundation
import Glibc
import TestSupport
import XCTest

@testable import Daemon

final class JournalTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var folder: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("journal-tests") }

    override func tearDownWithError() throws { scratch?.remove() }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    private func videoFile(_ name: String, bytes: Int = 4096) throws -> FileIdentity {
        let file = path(name)
        try randomBytes(bytes).write(to: URL(fileURLWithPath: file))
        return try FileIdentity.of(path: file)
    }

    /// Sets a file's mtime to the nanosecond.
    private func setModificationTime(_ file: String, seconds: Int, nanoseconds: Int) throws {
        let time = timespec(tv_sec: seconds, tv_nsec: nanoseconds)
        let times = [time, time]
        XCTAssertEqual(utimensat(AT_FDCWD, file, times, 0), 0, "utimensat \(file): \(String(cString: strerror(errno)))")
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try runProcess(executable, arguments)
        XCTAssertEqual(result.status, 0, "\(executable) \(arguments): \(result.stderr)")
        return result.stdout
    }

    // MARK: SHA-256

    func testSHA256KnownVectors() {
        XCTAssertEqual(sha256Hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha256Hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            sha256Hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        XCTAssertEqual(sha256Hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")

        // Fed in odd-sized pieces (crossing block boundaries every way), the digest must not change.
        var digest = SHA256Digest()
        var offset = 0
        var piece = 1
        while offset < million.count {
            let end = min(million.count, offset + piece)
            digest.update(million[offset..<end])
            offset = end
            piece = piece % 131 + 7
        }
        XCTAssertEqual(digest.finalizeHex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA256OfFileMatchesSha256sum() throws {
        let tool = "/usr/bin/sha256sum"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("\(tool) not installed") }
        let file = path("random.bin")
        let data = randomBytes(3 * 65536 + 1_000_003)  // not a multiple of the chunk or the block size
        try data.write(to: URL(fileURLWithPath: file))
        let expected = try run(tool, [file]).split(separator: " ").first.map(String.init)
        XCTAssertEqual(try sha256Hex(file: file), expected)

        let prefixFile = path("prefix.bin")
        try data.prefix(FileIdentity.hashedPrefixBytes).write(to: URL(fileURLWithPath: prefixFile))
        let expectedPrefix = try run(tool, [prefixFile]).split(separator: " ").first.map(String.init)
        XCTAssertEqual(try sha256Hex(file: file, limit: FileIdentity.hashedPrefixBytes), expectedPrefix)
        XCTAssertEqual(try FileIdentity.of(path: file).hashPrefix, expectedPrefix)
        XCTAssertEqual(try FileIdentity.of(path: file).size, Int64(data.count))
    }

    // MARK: File identity

    func testIdentityChangesWithSizeMtimeAndContent() throws {
        let file = path("clip.mp4")
        var content = randomBytes(10_000)
        try content.write(to: URL(fileURLWithPath: file))
        try setModificationTime(file, seconds: 1_700_000_000, nanoseconds: 123_456_789)
        let original = try FileIdentity.of(path: file)
        XCTAssertEqual(original.size, 10_000)
        XCTAssertEqual(original.mtime, 1_700_000_000.123_456_789, accuracy: 1e-6)
        XCTAssertEqual(try FileIdentity.of(path: file), original, "reading twice gives the same identity")

        // Only the nanoseconds of the mtime change.
        try setModificationTime(file, seconds: 1_700_000_000, nanoseconds: 123_457_789)
        let touched = try FileIdentity.of(path: file)
        XCTAssertNotEqual(touched.mtime, original.mtime)
        XCTAssertEqual(touched.hashPrefix, original.hashPrefix)

        // Same size and mtime, one byte different: only the hash tells.
        content[5000] ^= 0xff
        try content.write(to: URL(fileURLWithPath: file))
        try setModificationTime(file, seconds: 1_700_000_000, nanoseconds: 123_456_789)
        let edited = try FileIdentity.of(path: file)
        XCTAssertEqual(edited.size, original.size)
        XCTAssertEqual(edited.mtime, original.mtime)
        XCTAssertNotEqual(edited.hashPrefix, original.hashPrefix)

        // Appended past the hashed prefix is caught by the size.
        content.append(contentsOf: [1, 2, 3])
        try content.write(to: URL(fileURLWithPath: file))
        try setModificationTime(file, seconds: 1_700_000_000, nanoseconds: 123_456_789)
        XCTAssertEqual(try FileIdentity.of(path: file).size, 10_003)
    }

    func testIdentityErrorsNameThePath() throws {
        let missing = path("missing.mp4")
        XCTAssertThrowsError(try FileIdentity.of(path: missing)) { error in
            let error = error as? JournalError
            XCTAssertEqual(error?.code, .fileUnreadable)
            XCTAssertTrue(error?.description.contains(missing) == true, "\(String(describing: error))")
            XCTAssertTrue(error?.description.contains("No such file") == true, "\(String(describing: error))")
        }
        XCTAssertThrowsError(try FileIdentity.of(path: folder.path)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .notRegularFile)
        }
        // A FIFO named like a video must be refused, not block the watcher on open.
        let fifo = path("pipe.mp4")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try FileIdentity.of(path: fifo)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .notRegularFile)
        }
    }

    // MARK: Files across restarts

    func testRestartKeepsProcessingRecordAndEmittedKeys() throws {
        let dbPath = path("state/deeper/journal.sqlite")  // parent folders are created
        let clip = try videoFile("a.mp4")
        var journal: Journal? = try Journal(path: dbPath)
        XCTAssertNil(try journal!.record(source: "inbox", file: clip))
        let id = try journal!.begin(source: "inbox", file: clip, configHash: "cfg1")
        XCTAssertTrue(try journal!.recordEvent(file: id, key: "inbox|a.mp4|1|wave|2.00", end: 3.5))
        XCTAssertTrue(try journal!.recordEvent(file: id, key: "inbox|a.mp4|2|walk|4.00", end: 9.25))
        XCTAssertTrue(try journal!.recordEvent(file: id, key: "inbox|a.mp4|1|sit|5.00", end: 6.0))
        XCTAssertFalse(try journal!.recordEvent(file: id, key: "inbox|a.mp4|1|wave|2.00", end: 20))
        try journal!.close()
        journal = nil

        // A new instance, as after a restart.
        let reopened = try Journal(path: dbPath)
        let record = try XCTUnwrap(reopened.record(source: "inbox", file: clip))
        XCTAssertEqual(record.id, id)
        XCTAssertEqual(record.status, .processing)
        XCTAssertEqual(record.configHash, "cfg1")
        XCTAssertEqual(record.emittedUntil, 9.25, "the duplicate's end must not advance it")
        XCTAssertEqual(record.events, 3)
        XCTAssertNil(record.finishedAt)
        XCTAssertEqual(record.identity, clip)
        XCTAssertEqual(
            try reopened.emittedKeys(file: id),
            ["inbox|a.mp4|1|wave|2.00", "inbox|a.mp4|2|walk|4.00", "inbox|a.mp4|1|sit|5.00"])
        XCTAssertEqual(try reopened.interrupted(source: "inbox").map(\.id), [id])

        // Restarting the file reuses the record and its keys.
        XCTAssertEqual(try reopened.begin(source: "inbox", file: clip, configHash: "cfg2"), id)
        XCTAssertFalse(try reopened.recordEvent(file: id, key: "inbox|a.mp4|2|walk|4.00", end: 9.25))
        XCTAssertTrue(try reopened.recordEvent(file: id, key: "inbox|a.mp4|3|run|10.00", end: 11))
        XCTAssertEqual(try reopened.record(id: id)?.emittedUntil, 11)
        XCTAssertEqual(try reopened.record(id: id)?.configHash, "cfg1", "the first config hash is kept")

        // The same path under another source, or with other content, is another file.
        XCTAssertNil(try reopened.record(source: "other", file: clip))
        var changed = clip
        changed.size += 1
        XCTAssertNil(try reopened.record(source: "inbox", file: changed))
        XCTAssertNotEqual(try reopened.begin(source: "inbox", file: changed, configHash: "cfg1"), id)
    }

    func testFinishPrunesKeysAndIsNotReset() throws {
        let journal = try Journal(path: path("journal.sqlite"))
        let clip = try videoFile("b.mp4")
        let id = try journal.begin(source: "inbox", file: clip, configHash: "cfg")
        for i in 0..<5 { try journal.recordEvent(file: id, key: "k\(i)", end: Double(i)) }
        try journal.finish(file: id)

        let record = try XCTUnwrap(journal.record(source: "inbox", file: clip))
        XCTAssertEqual(record.status, .done)
        XCTAssertEqual(record.events, 5)
        XCTAssertEqual(record.emittedUntil, 4)
        XCTAssertNotNil(record.finishedAt)
        XCTAssertEqual(try journal.emittedKeys(file: id), [])
        XCTAssertEqual(try journal.interrupted(source: "inbox"), [])

        // A done file is not reset by begin, and refuses events (its keys are gone, dedupe would be blind).
        XCTAssertEqual(try journal.begin(source: "inbox", file: clip, configHash: "new"), id)
        XCTAssertEqual(try journal.record(id: id)?.status, .done)
        XCTAssertThrowsError(try journal.recordEvent(file: id, key: "k9", end: 9)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .notProcessing)
        }
        XCTAssertThrowsError(try journal.finish(file: id)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .notProcessing)
        }
        XCTAssertThrowsError(try journal.recordEvent(file: 999, key: "k", end: 1)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .unknownFile)
        }

        // forget makes it new again.
        XCTAssertTrue(try journal.forget(file: id))
        XCTAssertNil(try journal.record(id: id))
        let again = try journal.begin(source: "inbox", file: clip, configHash: "new")
        XCTAssertNotEqual(again, id)
        XCTAssertEqual(try journal.record(id: again)?.status, .processing)
        XCTAssertEqual(try journal.record(id: again)?.events, 0)
    }

    func testQuarantineFailAndInterruptedLists() throws {
        let journal = try Journal(path: path("journal.sqlite"))
        let clips = try (0..<5).map { try videoFile("c\($0).mp4") }
        let ids = try clips.map { try journal.begin(source: "inbox", file: $0, configHash: "cfg") }
        let elsewhere = try journal.begin(source: "archive", file: clips[0], configHash: "cfg")
        try journal.recordEvent(file: ids[1], key: "k", end: 1)
        try journal.quarantine(file: ids[1], reason: "moov atom not found")
        try journal.fail(file: ids[2], reason: "file vanished mid-run")
        try journal.finish(file: ids[3])

        let quarantined = try XCTUnwrap(journal.record(id: ids[1]))
        XCTAssertEqual(quarantined.status, .quarantined)
        XCTAssertEqual(quarantined.reason, "moov atom not found")
        XCTAssertNotNil(quarantined.finishedAt)
        XCTAssertEqual(try journal.emittedKeys(file: ids[1]), [])
        XCTAssertEqual(try journal.record(id: ids[2])?.reason, "file vanished mid-run")
        XCTAssertEqual(try journal.record(id: ids[2])?.status, .failed)
        XCTAssertNil(try journal.record(id: ids[3])?.reason)

        XCTAssertEqual(try journal.interrupted(source: "inbox").map(\.id), [ids[0], ids[4]])
        XCTAssertEqual(try journal.interrupted(source: "archive").map(\.id), [elsewhere])
        XCTAssertEqual(try journal.counts(), [.processing: 3, .done: 1, .quarantined: 1, .failed: 1])
    }

    // MARK: Crash safety

    /// A sqlite3 process applies the journal's own event transaction (same statements as `recordEvent`) in a loop,
    /// reports each COMMIT, is left inside an open transaction and SIGKILLed. Every reported commit must be there,
    /// the open transaction must not, and the counters must agree with the keys.
    func testKilledSqliteWriterMidTransactionLeavesEveryCommittedKey() throws {
        let tool = "/usr/bin/sqlite3"
        guard FileManager.default.isExecutableFile(atPath: tool) else { throw XCTSkip("\(tool) not installed") }
        let dbPath = path("journal.sqlite")
        let id: Int64
        do {
            let journal = try Journal(path: dbPath)
            id = try journal.begin(source: "inbox", file: try videoFile("d.mp4"), configHash: "cfg")
            try journal.recordEvent(file: id, key: "before", end: 1)
            try journal.close()
        }

        let child = Process()
        child.executableURL = URL(fileURLWithPath: tool)
        child.arguments = [dbPath]
        let input = Pipe()
        let output = Pipe()
        child.standardInput = input
        child.standardOutput = output
        try child.run()
        var script = "PRAGMA synchronous = FULL;\n.timeout 5000\n"
        let committed = 200
        for i in 0..<committed {
            script += """
                BEGIN IMMEDIATE;
                INSERT OR IGNORE INTO event (file_id, key) VALUES (\(id), 'k\(i)');
                UPDATE file SET events = events + changes(), emitted_until = max(emitted_until, \(i + 2)) \
                WHERE id = \(id);
                COMMIT;
                SELECT 'committed k\(i)';

                """
        }
        script += """
            BEGIN IMMEDIATE;
            INSERT INTO event (file_id, key) VALUES (\(id), 'uncommitted');
            UPDATE file SET events = events + 1, emitted_until = 99999 WHERE id = \(id);
            SELECT 'inside transaction';

            """
        input.fileHandleForWriting.write(Data(script.utf8))
        // stdin stays open, so sqlite3 waits inside the transaction until it is killed.

        var seen = ""
        while !seen.contains("inside transaction") {
            let chunk = output.fileHandleForReading.availableData
            XCTAssertFalse(chunk.isEmpty, "sqlite3 exited early; output so far: \(seen.suffix(300))")
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: dbPath + "-wal"), "commits are still in the WAL")
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal)
        try? input.fileHandleForWriting.close()
        let reported = seen.split(separator: "\n").filter { $0.hasPrefix("committed ") }
        XCTAssertEqual(reported.count, committed)

        // The killed writer left its -wal and -shm behind; the next open must recover from them.
        let journal = try Journal(path: dbPath)
        let keys = try journal.emittedKeys(file: id)
        for line in reported {
            XCTAssertTrue(keys.contains(String(line.dropFirst("committed ".count))), "lost \(line)")
        }
        XCTAssertFalse(keys.contains("uncommitted"))
        XCTAssertEqual(keys.count, committed + 1)
        let record = try XCTUnwrap(journal.record(id: id))
        XCTAssertEqual(record.status, .processing)
        XCTAssertEqual(record.events, committed + 1)
        XCTAssertEqual(record.emittedUntil, Double(committed + 1))
        XCTAssertTrue(try journal.recordEvent(file: id, key: "after", end: 1))
        XCTAssertFalse(try journal.recordEvent(file: id, key: "k7", end: 1))
    }

    /// The environment variables that turn `testChildRecordsEventsUntilKilled` into the child of the test below.
    private static let childDatabaseVariable = "ACTIOND_JOURNAL_TEST_CHILD_DB"
    private static let childFileVariable = "ACTIOND_JOURNAL_TEST_CHILD_FILE"

    /// This test binary is run again, filtered to `testChildRecordsEventsUntilKilled`, which records events through
    /// `Journal` as fast as it can and prints each key once `recordEvent` returned. It is SIGKILLed at a random point
    /// (usually inside a transaction or an fsync). Every printed key must survive, and the counters must agree with
    /// the keys (no half-applied transaction).
    func testKilledJournalProcessKeepsEveryCommittedKey() throws {
        let dbPath = path("journal.sqlite")
        let id: Int64
        do {
            let journal = try Journal(path: dbPath)
            id = try journal.begin(source: "inbox", file: try videoFile("child.mp4"), configHash: "cfg")
            try journal.close()
        }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["DaemonTests.JournalTests/testChildRecordsEventsUntilKilled"]
        var environment = ProcessInfo.processInfo.environment
        environment[Self.childDatabaseVariable] = dbPath
        environment[Self.childFileVariable] = String(id)
        child.environment = environment
        let output = Pipe()
        child.standardOutput = output
        child.standardError = FileHandle.nullDevice
        try child.run()

        var seen = ""
        var committedCount = 0
        while committedCount < 150 {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                XCTFail("child exited before being killed: \(seen.suffix(500))")
                break
            }
            seen += String(decoding: chunk, as: UTF8.self)
            committedCount = seen.components(separatedBy: "committed k").count - 1
        }
        kill(child.processIdentifier, SIGKILL)
        seen += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .uncaughtSignal, "the child must die by SIGKILL, not finish")
        let printed = seen.split(separator: "\n").filter { $0.hasPrefix("committed ") }
            .map { String($0.dropFirst("committed ".count)) }
        XCTAssertGreaterThanOrEqual(printed.count, 150)

        let journal = try Journal(path: dbPath)
        let keys = try journal.emittedKeys(file: id)
        for key in printed { XCTAssertTrue(keys.contains(key), "lost \(key)") }
        // Keys are recorded in order k0, k1, …: whatever survived is a prefix, with counters to match.
        XCTAssertEqual(keys, Set((0..<keys.count).map { "k\($0)" }))
        let record = try XCTUnwrap(journal.record(id: id))
        XCTAssertEqual(record.status, .processing)
        XCTAssertEqual(record.events, keys.count)
        XCTAssertEqual(record.emittedUntil, Double(keys.count - 1))
        XCTAssertFalse(try journal.recordEvent(file: id, key: "k0", end: 0))
    }

    /// The child half of the test above; skipped unless that test started this process.
    func testChildRecordsEventsUntilKilled() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let dbPath = environment[Self.childDatabaseVariable],
            let id = environment[Self.childFileVariable].flatMap(Int64.init)
        else {
            throw XCTSkip("runs only as the child of testKilledJournalProcessKeepsEveryCommittedKey")
        }
        let journal = try Journal(path: dbPath)
        for i in 0..<1_000_000 {
            XCTAssertTrue(try journal.recordEvent(file: id, key: "k\(i)", end: Double(i)))
            // Unbuffered, so the parent sees exactly what returned before the kill.
            let line = Array("committed k\(i)\n".utf8)
            _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
        XCTFail("the parent should have killed this process")
    }

    func testConcurrentRecordEventCountsEachKeyOnce() async throws {
        let journal = try Journal(path: path("journal.sqlite"))
        let id = try journal.begin(source: "inbox", file: try videoFile("e.mp4"), configHash: "cfg")
        let keys = 60
        // Four tasks race to record the same keys in different orders: each key must be accepted exactly once.
        let accepted = try await withThrowingTaskGroup(of: [String].self) { group in
            for task in 0..<4 {
                group.addTask {
                    var mine: [String] = []
                    let order = task % 2 == 0 ? Array(0..<keys) : Array((0..<keys).reversed())
                    for i in order where try journal.recordEvent(file: id, key: "k\(i)", end: Double(i)) {
                        mine.append("k\(i)")
                    }
                    return mine
                }
            }
            var all: [String] = []
            for try await mine in group { all += mine }
            return all
        }
        XCTAssertEqual(accepted.count, keys)
        XCTAssertEqual(Set(accepted), Set((0..<keys).map { "k\($0)" }))
        let record = try XCTUnwrap(journal.record(id: id))
        XCTAssertEqual(record.events, keys)
        XCTAssertEqual(record.emittedUntil, Double(keys - 1))
    }

    func testTwoInstancesOnOneFileSeeEachOther() throws {
        // As when `actiond` inspects the journal of a running daemon.
        let dbPath = path("journal.sqlite")
        let daemon = try Journal(path: dbPath)
        let inspector = try Journal(path: dbPath)
        let id = try daemon.begin(source: "inbox", file: try videoFile("f.mp4"), configHash: "cfg")
        try daemon.recordEvent(file: id, key: "k", end: 2)
        XCTAssertEqual(try inspector.emittedKeys(file: id), ["k"])
        XCTAssertFalse(try inspector.recordEvent(file: id, key: "k", end: 2))
        try inspector.finish(file: id)
        XCTAssertEqual(try daemon.record(id: id)?.status, .done)
    }

    // MARK: Corruption and recovery

    func testCorruptJournalIsNamedAndMovedAside() throws {
        let dbPath = path("journal.sqlite")
        let garbage = randomBytes(64 * 1024)
        try garbage.write(to: URL(fileURLWithPath: dbPath))
        XCTAssertThrowsError(try Journal(path: dbPath)) { error in
            let error = error as? JournalError
            XCTAssertEqual(error?.code, .corrupt)
            XCTAssertEqual(error?.path, dbPath)
            XCTAssertTrue(error?.description.contains(dbPath) == true, "\(String(describing: error))")
        }

        let (journal, recoveredFrom) = try Journal.openOrRecover(path: dbPath)
        let aside = try XCTUnwrap(recoveredFrom)
        XCTAssertTrue(aside.hasPrefix(dbPath + ".corrupt-"), aside)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: aside)), garbage, "the evidence is kept intact")
        let id = try journal.begin(source: "inbox", file: try videoFile("g.mp4"), configHash: "cfg")
        XCTAssertTrue(try journal.recordEvent(file: id, key: "k", end: 1))
        try journal.close()

        // A healthy journal is opened as it is, never moved.
        let (again, none) = try Journal.openOrRecover(path: dbPath)
        XCTAssertNil(none)
        XCTAssertEqual(try again.emittedKeys(file: id), ["k"])
    }

    func testDamagedPagesAreDetectedOnOpen() throws {
        let dbPath = path("journal.sqlite")
        do {
            let journal = try Journal(path: dbPath)
            for n in 0..<40 {
                let id = try journal.begin(
                    source: "inbox", file: try videoFile("h\(n).mp4", bytes: 64), configHash: "c")
                for k in 0..<20 { try journal.recordEvent(file: id, key: "key-\(n)-\(k)-padding-padding", end: 1) }
            }
            try journal.close()  // checkpoints the WAL into the main file
        }
        // Keep the 100-byte header (so it still looks like SQLite) and scribble over every page after the first.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dbPath))
        let size = try handle.seekToEnd()
        XCTAssertGreaterThan(size, 8192)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: randomBytes(Int(size) - 4096))
        try handle.close()

        XCTAssertThrowsError(try Journal(path: dbPath)) { error in
            XCTAssertEqual((error as? JournalError)?.code, .corrupt, "\(error)")
        }
        let (journal, recoveredFrom) = try Journal.openOrRecover(path: dbPath)
        XCTAssertNotNil(recoveredFrom)
        XCTAssertEqual(try journal.counts()[.processing], 0)
    }

    func testUnopenablePathIsNotTreatedAsCorrupt() throws {
        let blocker = path("not-a-folder")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let dbPath = blocker + "/journal.sqlite"
        XCTAssertThrowsError(try Journal.openOrRecover(path: dbPath)) { error in
            let error = error as? JournalError
            XCTAssertEqual(error?.code, .cannotOpen)
            XCTAssertTrue(error?.description.contains(dbPath) == true, "\(String(describing: error))")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: blocker)), Data("x".utf8))
    }

    func testClosedJournalThrows() throws {
        let journal = try Journal(path: path("journal.sqlite"))
        try journal.close()
        XCTAssertThrowsError(try journal.counts()) { error in
            XCTAssertEqual((error as? JournalError)?.code, .database)
        }
    }

    // MARK: Streams

    func testStreamProgressCountsConnectsAndOutages() throws {
        let dbPath = path("journal.sqlite")
        let url = "rtsp://10.0.0.5/stream1"
        var journal: Journal? = try Journal(path: dbPath)
        XCTAssertNil(try journal!.stream(source: "door", url: url))
        try journal!.streamProgress(source: "door", url: url, mediaTime: nil, connected: true)
        try journal!.streamProgress(source: "door", url: url, mediaTime: 12.5, connected: true)
        try journal!.streamProgress(source: "door", url: url, mediaTime: 14.0, connected: true)
        var record = try XCTUnwrap(journal!.stream(source: "door", url: url))
        XCTAssertEqual(record.connects, 1)
        XCTAssertEqual(record.outages, 0)
        XCTAssertTrue(record.connected)
        XCTAssertEqual(record.mediaTime, 14.0)
        XCTAssertNotNil(record.lastSeen)
        let seenWhileConnected = record.lastSeen

        try journal!.streamProgress(source: "door", url: url, mediaTime: nil, connected: false)
        try journal!.streamProgress(source: "door", url: url, mediaTime: nil, connected: false)
        record = try XCTUnwrap(journal!.stream(source: "door", url: url))
        XCTAssertFalse(record.connected)
        XCTAssertEqual(record.outages, 1, "repeated disconnected reports are one outage")
        XCTAssertEqual(record.mediaTime, 14.0, "a report without media time keeps the last one")
        XCTAssertEqual(record.lastSeen, seenWhileConnected, "disconnected reports do not touch last_seen")

        try journal!.streamProgress(source: "door", url: url, mediaTime: 0.5, connected: true)
        record = try XCTUnwrap(journal!.stream(source: "door", url: url))
        XCTAssertEqual(record.connects, 2)
        XCTAssertEqual(record.mediaTime, 0.5, "the stream clock may restart after a reconnect")
        XCTAssertEqual(record.lastSeen, record.updatedAt, "a connected report updates last_seen")
        try journal!.close()
        journal = nil

        // After a restart the old connection is gone: reads as disconnected, the next connect counts.
        let restarted = try Journal(path: dbPath)
        record = try XCTUnwrap(restarted.stream(source: "door", url: url))
        XCTAssertFalse(record.connected)
        XCTAssertEqual(record.connects, 2)
        try restarted.streamProgress(source: "door", url: url, mediaTime: 1, connected: true)
        XCTAssertEqual(try restarted.stream(source: "door", url: url)?.connects, 3)
        XCTAssertEqual(try restarted.stream(source: "door", url: url)?.outages, 1)
        XCTAssertNil(try restarted.stream(source: "door", url: "rtsp://other"))
    }
}
