// The journal's second schema version on real SQLite files: a done file's damage (truncation, damaged packets and
// frames) and the device and inode of the file that was read; a journal written by the first version is migrated
// in place; a file that grew while it was read hands its emitted keys to its next version.

import Foundation
import Glibc
import TestSupport
import XCTest

@testable import Daemon

final class JournalVersionTests: XCTestCase {
    private var scratch: TemporaryDirectory!
    private var folder: URL { scratch.url }

    override func setUpWithError() throws { scratch = try TemporaryDirectory("journal-v2") }

    override func tearDownWithError() throws { scratch?.remove() }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    func testDoneFileKeepsItsDamageAndTheFileItWas() throws {
        let journal = try Journal(path: path("journal.sqlite"))
        try Data(repeating: 5, count: 3000).write(to: URL(fileURLWithPath: path("cut.mp4")))
        let clip = try FileIdentity.of(path: path("cut.mp4"))
        var info = stat()
        XCTAssertEqual(stat(path("cut.mp4"), &info), 0)
        XCTAssertEqual(clip.device, UInt64(info.st_dev))
        XCTAssertEqual(clip.inode, UInt64(info.st_ino))

        let id = try journal.begin(source: "inbox", file: clip, configHash: "cfg")
        let damage = FileDamage(truncated: true, skippedPackets: 3, corruptFrames: 2,
                                detail: "stream ended after 120 of 250 packets")
        try journal.finish(file: id, damage: damage)
        let record = try XCTUnwrap(journal.record(source: "inbox", file: clip))
        XCTAssertEqual(record.status, .done)
        XCTAssertEqual(record.damage, damage)
        XCTAssertEqual(record.identity.device, clip.device)
        XCTAssertEqual(record.identity.inode, clip.inode)

        // A clean file says so.
        try Data(repeating: 6, count: 3000).write(to: URL(fileURLWithPath: path("good.mp4")))
        let good = try FileIdentity.of(path: path("good.mp4"))
        try journal.finish(file: try journal.begin(source: "inbox", file: good, configHash: "cfg"))
        XCTAssertEqual(try journal.record(source: "inbox", file: good)?.damage, FileDamage())
        XCTAssertTrue(try XCTUnwrap(journal.record(source: "inbox", file: good)).damage.isClean)
    }

    /// A journal the first schema version wrote (made with the sqlite3 tool, as that version left it) opens, keeps
    /// its records, and takes damage and inode from then on.
    func testFirstVersionJournalIsMigrated() throws {
        let db = path("old.sqlite")
        let script = """
            CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
            INSERT INTO grdb_migrations VALUES ('v1: files, event keys, streams');
            CREATE TABLE file (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, path TEXT NOT NULL,
                size INTEGER NOT NULL, mtime REAL NOT NULL, hash_prefix TEXT NOT NULL, status TEXT NOT NULL
                CHECK (status IN ('processing', 'done', 'quarantined', 'failed')), config_hash TEXT NOT NULL,
                emitted_until REAL, events INTEGER NOT NULL DEFAULT 0, reason TEXT, started_at REAL NOT NULL,
                finished_at REAL);
            CREATE UNIQUE INDEX file_identity ON file (source, path, size, mtime, hash_prefix);
            CREATE INDEX file_status ON file (source, status);
            CREATE TABLE event (file_id INTEGER NOT NULL REFERENCES file (id) ON DELETE CASCADE, key TEXT NOT NULL,
                PRIMARY KEY (file_id, key)) WITHOUT ROWID;
            CREATE TABLE stream (source TEXT NOT NULL, url TEXT NOT NULL, media_time REAL, connected INTEGER NOT NULL,
                session TEXT NOT NULL, connects INTEGER NOT NULL, outages INTEGER NOT NULL, last_seen REAL,
                updated_at REAL NOT NULL, PRIMARY KEY (source, url)) WITHOUT ROWID;
            INSERT INTO file (source, path, size, mtime, hash_prefix, status, config_hash, events, started_at,
                finished_at) VALUES ('inbox', '/in/a.mp4', 10, 1.5, 'abc', 'done', 'cfg', 4, 1.0, 2.0);
            """
        let sqlite = try runProcess("/usr/bin/sqlite3", [db, script])
        XCTAssertEqual(sqlite.status, 0, sqlite.stderr)

        let journal = try Journal(path: db)
        let old = FileIdentity(path: "/in/a.mp4", size: 10, mtime: 1.5, hashPrefix: "abc")
        let record = try XCTUnwrap(journal.record(source: "inbox", file: old))
        XCTAssertEqual(record.status, .done)
        XCTAssertEqual(record.events, 4)
        XCTAssertEqual(record.damage, FileDamage())
        XCTAssertNil(record.identity.inode)

        try Data(repeating: 1, count: 100).write(to: URL(fileURLWithPath: path("b.mp4")))
        let clip = try FileIdentity.of(path: path("b.mp4"))
        let id = try journal.begin(source: "inbox", file: clip, configHash: "cfg")
        try journal.finish(file: id, damage: FileDamage(truncated: true))
        XCTAssertEqual(try journal.record(id: id)?.damage.truncated, true)
        XCTAssertEqual(try journal.record(id: id)?.identity.inode, clip.inode)
    }

    /// The same file (same path, device and inode) read while short, left open, then read again once it grew:
    /// the new record takes the old one's keys, and the old one is closed as failed with the reason.
    func testAFileThatGrewTakesOverTheKeysOfItsEarlierVersion() throws {
        let journal = try Journal(path: path("journal.sqlite"))
        let file = path("growing.mkv")
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: file))
        let short = try FileIdentity.of(path: file)
        let first = try journal.begin(source: "inbox", file: short, configHash: "cfg")
        try journal.recordEvent(file: first, key: "k1", end: 1)
        try journal.recordEvent(file: first, key: "k2", end: 2)

        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(repeating: 2, count: 1000))
        try handle.close()
        let grown = try FileIdentity.of(path: file)
        XCTAssertEqual(grown.inode, short.inode)
        XCTAssertNotEqual(grown.size, short.size)
        let second = try journal.begin(source: "inbox", file: grown, configHash: "cfg")
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(try journal.adoptEarlierVersions(source: "inbox", file: grown, into: second), 2)
        XCTAssertEqual(try journal.emittedKeys(file: second), ["k1", "k2"])
        let old = try XCTUnwrap(journal.record(id: first))
        XCTAssertEqual(old.status, .failed)
        XCTAssertTrue(old.reason?.contains("#\(second)") ?? false, old.reason ?? "")
        XCTAssertEqual(try journal.interrupted(source: "inbox").map(\.id), [second])

        // Another file at another path, or another source, is not taken over.
        try Data(repeating: 3, count: 10).write(to: URL(fileURLWithPath: path("other.mkv")))
        let other = try FileIdentity.of(path: path("other.mkv"))
        let third = try journal.begin(source: "inbox", file: other, configHash: "cfg")
        XCTAssertEqual(try journal.adoptEarlierVersions(source: "inbox", file: other, into: third), 0)
        XCTAssertEqual(try journal.adoptEarlierVersions(source: "other", file: grown, into: second), 0)
    }
}
