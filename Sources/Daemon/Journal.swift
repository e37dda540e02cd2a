// The daemon's memory across restarts: which files were processed (and which event keys of an unfinished file
// were already written), and each live stream's progress. SQLite through GRDB; docs/journal.md has the schema and
// the crash-safety argument.

import Foundation
import GRDB
import Glibc

/// A SQLite journal of processed files and live-stream progress, so a restart neither skips nor re-emits work.
///
/// Durability: WAL mode with `synchronous = FULL`, so a method that returned has its change on disk even across a
/// power loss (NORMAL would only survive a process crash: the last commits could roll back, and events they
/// recorded would be emitted again). Every mutation is one IMMEDIATE transaction. Safe to share between tasks and
/// threads (GRDB serialises writes; reads run concurrently), and between processes (5 s busy timeout).
public final class Journal: Sendable {
    /// The SQLite file.
    public let path: String
    private let pool: DatabasePool
    /// Tells this instance's stream reports from those of earlier processes (see `StreamRecord.connected`).
    private let session: String

    /// How long a write waits for another process's write lock before failing.
    public static let busyTimeout: TimeInterval = 5

    /// Opens the journal at `path`, creating it and its parent folders if needed, and migrates its schema.
    /// - Throws: `JournalError` `.corrupt` if the file is not a SQLite database or fails `PRAGMA quick_check`
    ///   (use `openOrRecover` to move it aside), `.cannotOpen` for any other failure. Both name the path.
    public init(path: String) throws {
        self.path = path
        self.session = UUID().uuidString
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty {
            do {
                try makeFolders(parent)
            } catch {
                throw JournalError(.cannotOpen, path: path, detail: "cannot create its folder: \(error)")
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(Self.busyTimeout)
        config.label = "actiond.journal"
        config.prepareDatabase { db in
            // FULL: fsync the WAL at every commit (see the type's comment and docs/journal.md).
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw Self.openError(error, path: path, step: "open")
        }
        do {
            let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard check == ["ok"] else {
                try? pool.close()
                throw JournalError(
                    .corrupt, path: path, detail: "quick_check: " + check.prefix(5).joined(separator: "; "))
            }
            try Self.migrator.migrate(pool)
        } catch let error as JournalError {
            throw error
        } catch {
            try? pool.close()
            throw Self.openError(error, path: path, step: "check and migrate")
        }
        self.pool = pool
    }

    /// Opens the journal at `path`; if it is corrupt, renames it (and its `-wal`/`-shm` files) to
    /// `<path>.corrupt-<UTC timestamp>` and starts a fresh journal. Other failures (permissions, disk) are thrown,
    /// never "recovered" by discarding a good journal.
    /// - Returns: the journal and the path the corrupt file was moved to, if it was.
    public static func openOrRecover(path: String) throws -> (Journal, recoveredFrom: String?) {
        do {
            return (try Journal(path: path), nil)
        } catch let error as JournalError where error.code == .corrupt {
            let aside = try moveAside(path: path)
            return (try Journal(path: path), aside)
        }
    }

    /// Closes the database; later calls throw `.database`. Idempotent.
    public func close() throws {
        do {
            try pool.close()
        } catch {
            throw JournalError(.database, path: path, detail: "close: \(error)")
        }
    }

    // MARK: Files

    /// The record of this exact file (same source, path, size, mtime, hash prefix), if any.
    public func record(source: String, file: FileIdentity) throws -> FileRecord? {
        try read("look up \(file.path)") { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM file WHERE " + Self.identityMatch,
                arguments: Self.identityArguments(source: source, file: file)
            ).map(Self.fileRecord)
        }
    }

    /// The record with this id, if any.
    public func record(id: Int64) throws -> FileRecord? {
        try read("look up file #\(id)") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM file WHERE id = ?", arguments: [id]).map(Self.fileRecord)
        }
    }

    /// Starts (or restarts after a crash) work on a file; returns its record id. An existing `processing` record is
    /// reused (its emitted keys and its first config hash kept); `done`/`quarantined`/`failed` records are NOT reset
    /// (the caller checks `record(source:file:)` first, and calls `forget` to process a file again).
    public func begin(source: String, file: FileIdentity, configHash: String) throws -> Int64 {
        try write("begin \(file.path)") { db in
            if let id = try Int64.fetchOne(
                db, sql: "SELECT id FROM file WHERE " + Self.identityMatch,
                arguments: Self.identityArguments(source: source, file: file))
            {
                return id
            }
            try db.execute(
                sql: """
                    INSERT INTO file (source, path, size, mtime, hash_prefix, status, config_hash, started_at,
                                      device, inode)
                    VALUES (?, ?, ?, ?, ?, 'processing', ?, ?, ?, ?)
                    """,
                arguments: [
                    source, file.path, file.size, file.mtime, file.hashPrefix, configHash,
                    Date().timeIntervalSince1970, file.device.map { Int64(bitPattern: $0) },
                    file.inode.map { Int64(bitPattern: $0) },
                ])
            return db.lastInsertedRowID
        }
    }

    /// Takes over the emitted keys of earlier versions of `file` — records of the same source, path, device and
    /// inode left `processing` because the file grew or was rewritten while it was read — into record `id`, and
    /// marks those records failed. The new version then does not write again the events the old one wrote.
    /// - Returns: how many keys were taken over.
    @discardableResult
    public func adoptEarlierVersions(source: String, file: FileIdentity, into id: Int64) throws -> Int {
        guard let device = file.device, let inode = file.inode else { return 0 }
        return try write("take over earlier versions of \(file.path)") { db in
            let earlier = try Int64.fetchAll(
                db,
                sql: """
                    SELECT id FROM file WHERE source = ? AND path = ? AND device = ? AND inode = ?
                        AND status = 'processing' AND id != ?
                    """,
                arguments: [source, file.path, Int64(bitPattern: device), Int64(bitPattern: inode), id])
            var adopted = 0
            for old in earlier {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO event (file_id, key) SELECT ?, key FROM event WHERE file_id = ?",
                    arguments: [id, old])
                adopted += db.changesCount
                try db.execute(
                    sql: "UPDATE file SET status = 'failed', reason = ?, finished_at = ? WHERE id = ?",
                    arguments: ["changed while being read; continued as file record #\(id)",
                                Date().timeIntervalSince1970, old])
                try db.execute(sql: "DELETE FROM event WHERE file_id = ?", arguments: [old])
            }
            return adopted
        }
    }

    /// Keys already emitted for a file (dedupe on restart). Empty once the file is finished (keys are pruned).
    public func emittedKeys(file id: Int64) throws -> Set<String> {
        try read("emitted keys of file #\(id)") { db in
            Set(try String.fetchAll(db, sql: "SELECT key FROM event WHERE file_id = ?", arguments: [id]))
        }
    }

    /// Records one emitted event (`key`, e.g. source|media|track|label|start) and advances `emittedUntil` to
    /// max(old, end), in one transaction.
    /// - Returns: false if the key was already recorded (the caller must then not write the event).
    /// - Throws: `.unknownFile`, or `.notProcessing` if the file is done, quarantined or failed (its keys may be
    ///   pruned, so a duplicate could not be detected).
    @discardableResult
    public func recordEvent(file id: Int64, key: String, end: Double) throws -> Bool {
        try write("record event \(key) of file #\(id)") { db in
            try Self.requireProcessing(db, id: id, path: self.path)
            try db.execute(
                sql: "INSERT OR IGNORE INTO event (file_id, key) VALUES (?, ?)", arguments: [id, key])
            guard db.changesCount == 1 else { return false }
            try db.execute(
                sql: """
                    UPDATE file SET events = events + 1,
                        emitted_until = CASE WHEN emitted_until IS NULL OR emitted_until < ?1 THEN ?1
                                             ELSE emitted_until END
                    WHERE id = ?2
                    """,
                arguments: [end, id])
            return true
        }
    }

    /// Marks the file done and prunes its event keys (a done file is skipped, so they are never needed again;
    /// `events` and `emittedUntil` stay), with what decoding met (`damage`: truncation, damaged packets/frames).
    public func finish(file id: Int64, damage: FileDamage = FileDamage()) throws {
        try settle(id: id, status: .done, reason: nil, damage: damage)
    }

    /// Marks the file quarantined (moved aside as unreadable or undecodable) with the reason.
    public func quarantine(file id: Int64, reason: String) throws {
        try settle(id: id, status: .quarantined, reason: reason)
    }

    /// Marks the file failed (given up for a reason that is not its content) with the reason.
    public func fail(file id: Int64, reason: String) throws {
        try settle(id: id, status: .failed, reason: reason)
    }

    /// Deletes a file's record and its keys, so the next `begin` starts afresh (e.g. a done file to be reprocessed
    /// under a new config). Returns false if there was no such record.
    @discardableResult
    public func forget(file id: Int64) throws -> Bool {
        try write("forget file #\(id)") { db in
            try db.execute(sql: "DELETE FROM file WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    /// Files of `source` left `processing` (the daemon crashed or stopped mid-file), oldest first.
    public func interrupted(source: String) throws -> [FileRecord] {
        try read("interrupted files of \(source)") { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM file WHERE source = ? AND status = 'processing' ORDER BY id",
                arguments: [source]
            ).map(Self.fileRecord)
        }
    }

    /// How many file records are in each status (every status present, zero if none).
    public func counts() throws -> [FileStatus: Int] {
        try read("count files") { db in
            var counts = Dictionary(uniqueKeysWithValues: FileStatus.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM file GROUP BY status") {
                if let status = FileStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    // MARK: Streams

    /// Live streams: reports progress of (source, url). `mediaTime` (if given) becomes the last media time emitted;
    /// a change from disconnected to connected counts a connect, from connected to disconnected an outage; a
    /// connected report updates `lastSeen`.
    public func streamProgress(source: String, url: String, mediaTime: Double?, connected: Bool) throws {
        let now = Date().timeIntervalSince1970
        try write("stream progress of \(source) \(url)") { db in
            let previous = try Row.fetchOne(
                db, sql: "SELECT connected, session FROM stream WHERE source = ? AND url = ?",
                arguments: [source, url])
            // A "connected" left by an earlier process is stale: that connection died with it.
            let wasConnected =
                previous.map { ($0["connected"] as Bool) && ($0["session"] as String?) == self.session }
                ?? false
            let connect = connected && !wasConnected ? 1 : 0
            let outage = !connected && wasConnected ? 1 : 0
            try db.execute(
                sql: """
                    INSERT INTO stream (source, url, media_time, connected, session, connects, outages, last_seen,
                                        updated_at)
                    VALUES (:source, :url, :media, :connected, :session, :connect, :outage, :seen, :now)
                    ON CONFLICT (source, url) DO UPDATE SET
                        media_time = COALESCE(:media, media_time),
                        connected = :connected,
                        session = :session,
                        connects = connects + :connect,
                        outages = outages + :outage,
                        last_seen = COALESCE(:seen, last_seen),
                        updated_at = :now
                    """,
                arguments: [
                    "source": source, "url": url, "media": mediaTime, "connected": connected,
                    "session": self.session, "connect": connect, "outage": outage,
                    "seen": connected ? now : nil, "now": now,
                ])
        }
    }

    /// The progress of (source, url), if it was ever reported.
    public func stream(source: String, url: String) throws -> StreamRecord? {
        try read("stream \(source) \(url)") { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM stream WHERE source = ? AND url = ?", arguments: [source, url])
            else { return nil }
            return StreamRecord(
                source: row["source"], url: row["url"], mediaTime: row["media_time"],
                connected: (row["connected"] as Bool) && (row["session"] as String?) == self.session,
                connects: row["connects"], outages: row["outages"],
                lastSeen: (row["last_seen"] as Double?).map(Date.init(timeIntervalSince1970:)),
                updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
        }
    }

    // MARK: Schema

    /// Schema versions, applied in order by GRDB's migrator (it records applied ones in `grdb_migrations`).
    /// Never edit a shipped migration: add a new one.
    private static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: files, event keys, streams") { db in
            try db.execute(
                sql: """
                    CREATE TABLE file (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        source TEXT NOT NULL,
                        path TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        mtime REAL NOT NULL,
                        hash_prefix TEXT NOT NULL,
                        status TEXT NOT NULL
                            CHECK (status IN ('processing', 'done', 'quarantined', 'failed')),
                        config_hash TEXT NOT NULL,
                        emitted_until REAL,
                        events INTEGER NOT NULL DEFAULT 0,
                        reason TEXT,
                        started_at REAL NOT NULL,
                        finished_at REAL
                    );
                    CREATE UNIQUE INDEX file_identity ON file (source, path, size, mtime, hash_prefix);
                    CREATE INDEX file_status ON file (source, status);
                    CREATE TABLE event (
                        file_id INTEGER NOT NULL REFERENCES file (id) ON DELETE CASCADE,
                        key TEXT NOT NULL,
                        PRIMARY KEY (file_id, key)
                    ) WITHOUT ROWID;
                    CREATE TABLE stream (
                        source TEXT NOT NULL,
                        url TEXT NOT NULL,
                        media_time REAL,
                        connected INTEGER NOT NULL,
                        session TEXT NOT NULL,
                        connects INTEGER NOT NULL,
                        outages INTEGER NOT NULL,
                        last_seen REAL,
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (source, url)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2: file device and inode, damage of done files") { db in
            try db.execute(
                sql: """
                    ALTER TABLE file ADD COLUMN device INTEGER;
                    ALTER TABLE file ADD COLUMN inode INTEGER;
                    ALTER TABLE file ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE file ADD COLUMN skipped_packets INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE file ADD COLUMN corrupt_frames INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE file ADD COLUMN damage TEXT;
                    """)
        }
        return migrator
    }()

    private static let identityMatch = "source = ? AND path = ? AND size = ? AND mtime = ? AND hash_prefix = ?"

    private static func identityArguments(source: String, file: FileIdentity) -> StatementArguments {
        [source, file.path, file.size, file.mtime, file.hashPrefix]
    }

    private static func fileRecord(_ row: Row) -> FileRecord {
        let statusText: String = row["status"]
        return FileRecord(
            id: row["id"], source: row["source"],
            identity: FileIdentity(
                path: row["path"], size: row["size"], mtime: row["mtime"], hashPrefix: row["hash_prefix"],
                device: (row["device"] as Int64?).map { UInt64(bitPattern: $0) },
                inode: (row["inode"] as Int64?).map { UInt64(bitPattern: $0) }),
            // The CHECK constraint keeps status to the four names.
            status: FileStatus(rawValue: statusText) ?? .failed,
            configHash: row["config_hash"], emittedUntil: row["emitted_until"], events: row["events"],
            reason: row["reason"],
            damage: FileDamage(truncated: row["truncated"], skippedPackets: row["skipped_packets"],
                               corruptFrames: row["corrupt_frames"], detail: row["damage"]),
            startedAt: Date(timeIntervalSince1970: row["started_at"]),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    private static func requireProcessing(_ db: Database, id: Int64, path: String) throws {
        guard let status = try String.fetchOne(db, sql: "SELECT status FROM file WHERE id = ?", arguments: [id]) else {
            throw JournalError(.unknownFile, path: path, detail: "no file record #\(id)")
        }
        guard status == FileStatus.processing.rawValue else {
            throw JournalError(.notProcessing, path: path, detail: "file record #\(id) is \(status)")
        }
    }

    /// Moves a processing file to a final status and prunes its event keys: keys only serve to resume a file in
    /// flight, and no final status is ever resumed, so the event table stays as small as the work in progress.
    private func settle(id: Int64, status: FileStatus, reason: String?, damage: FileDamage = FileDamage()) throws {
        try write("mark file #\(id) \(status.rawValue)") { db in
            try Self.requireProcessing(db, id: id, path: self.path)
            try db.execute(
                sql: """
                    UPDATE file SET status = ?, reason = ?, finished_at = ?, truncated = ?, skipped_packets = ?,
                        corrupt_frames = ?, damage = ?
                    WHERE id = ?
                    """,
                arguments: [status.rawValue, reason, Date().timeIntervalSince1970, damage.truncated,
                            damage.skippedPackets, damage.corruptFrames, damage.detail, id])
            try db.execute(sql: "DELETE FROM event WHERE file_id = ?", arguments: [id])
        }
    }

    // MARK: Errors and access

    private func read<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T) throws -> T {
        try reporting(what) { try pool.read(body) }
    }

    private func write<T: Sendable>(_ what: String, _ body: @Sendable (Database) throws -> T) throws -> T {
        try reporting(what) { try pool.write(body) }
    }

    /// Runs a database access; SQLite and I/O errors become a `JournalError` naming the journal and `what`.
    private func reporting<T>(_ what: String, _ access: () throws -> T) throws -> T {
        do {
            return try access()
        } catch let error as JournalError {
            throw error
        } catch {
            throw Self.accessError(error, path: path, what: what)
        }
    }

    private static func isCorruption(_ error: Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
    }

    private static func openError(_ error: Error, path: String, step: String) -> JournalError {
        if isCorruption(error) {
            return JournalError(.corrupt, path: path, detail: "\(step): not a valid SQLite journal (\(error))")
        }
        return JournalError(.cannotOpen, path: path, detail: "\(step): \(error)")
    }

    private static func accessError(_ error: Error, path: String, what: String) -> JournalError {
        JournalError(isCorruption(error) ? .corrupt : .database, path: path, detail: "\(what): \(error)")
    }

    /// Renames a corrupt journal and its WAL/shm companions to `<path>.corrupt-<timestamp>[-wal|-shm]`.
    private static func moveAside(path: String) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: Date())
        var aside = "\(path).corrupt-\(stamp)"
        var suffix = 1
        let manager = FileManager.default
        while manager.fileExists(atPath: aside) {
            suffix += 1
            aside = "\(path).corrupt-\(stamp)-\(suffix)"
        }
        // The WAL first: were we to crash between the renames, a stale WAL must not be replayed into a new file.
        for companion in ["-wal", "-shm", ""] where manager.fileExists(atPath: path + companion) {
            guard rename(path + companion, aside + companion) == 0 else {
                let reason = String(cString: strerror(errno))
                throw JournalError(
                    .cannotOpen, path: path, detail: "cannot move corrupt journal aside to \(aside): \(reason)")
            }
        }
        return aside
    }
}
