// Values the journal stores and returns: a file's identity, a processed file's record, a live stream's progress,
// and the journal's typed error.

import Foundation
import Glibc

/// What makes a file "the same file" across daemon restarts: path, size, modification time and a hash of its first
/// MiB. A file rewritten in place (new mtime or size) or replaced by another with the same name is a new file.
public struct FileIdentity: Sendable, Equatable, Codable {
    /// How many leading bytes `hashPrefix` covers.
    public static let hashedPrefixBytes = 1 << 20

    /// The path as the source saw it (not resolved; a moved file is a new identity).
    public var path: String
    /// Size in bytes.
    public var size: Int64
    /// Modification time in seconds since 1970, from the nanosecond `st_mtim` (a Double keeps ~0.2 µs today).
    public var mtime: Double
    /// Lowercase hex SHA-256 of the first `hashedPrefixBytes` bytes (of the whole file if shorter).
    public var hashPrefix: String
    /// The file system's device and inode numbers of the file that was read: which file the path named then. Not
    /// part of the journal's match (a restored backup is the same file), but compared before a file is moved, so a
    /// file renamed over the path mid-run is not mistaken for the one that was processed. Nil in records written
    /// before the journal kept them.
    public var device: UInt64?
    public var inode: UInt64?

    public init(path: String, size: Int64, mtime: Double, hashPrefix: String, device: UInt64? = nil,
                inode: UInt64? = nil) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.hashPrefix = hashPrefix
        self.device = device
        self.inode = inode
    }

    /// Reads the identity of the regular file at `path`. Size and mtime come from the same open descriptor that is
    /// hashed, and are checked again after hashing, so a file still being written is reported, not half-identified.
    /// - Throws: `JournalError` `.fileUnreadable` (cannot open/stat/read), `.notRegularFile`, or `.fileChanging`
    ///   (size or mtime moved while hashing; the caller should let the file settle and retry).
    public static func of(path: String) throws -> FileIdentity {
        // O_NONBLOCK so a FIFO that matches a watch glob cannot block the open; it is refused as not regular below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw JournalError.fileUnreadable(path, operation: "open", errno: errno) }
        defer { _ = Glibc.close(fd) }
        let before = try status(fd: fd, path: path)
        guard (before.st_mode & S_IFMT) == S_IFREG else {
            throw JournalError(.notRegularFile, path: path, detail: "not a regular file (mode \(before.st_mode))")
        }
        let hash = try sha256Hex(descriptor: fd, path: path, limit: hashedPrefixBytes)
        let after = try status(fd: fd, path: path)
        let mtime = Double(before.st_mtim.tv_sec) + Double(before.st_mtim.tv_nsec) / 1e9
        guard before.st_size == after.st_size, before.st_mtim.tv_sec == after.st_mtim.tv_sec,
            before.st_mtim.tv_nsec == after.st_mtim.tv_nsec
        else {
            throw JournalError(
                .fileChanging, path: path,
                detail: "size or mtime changed while hashing (\(before.st_size) -> \(after.st_size) bytes)")
        }
        return FileIdentity(path: path, size: Int64(before.st_size), mtime: mtime, hashPrefix: hash,
                            device: UInt64(before.st_dev), inode: UInt64(before.st_ino))
    }

    private static func status(fd: Int32, path: String) throws -> stat {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw JournalError.fileUnreadable(path, operation: "fstat", errno: errno) }
        return info
    }
}

/// Where a file stands in the journal.
public enum FileStatus: String, Sendable, CaseIterable, Codable {
    /// Work began and has not finished: the daemon is on it now, or crashed / stopped mid-file (redo it, skipping
    /// the keys in `emittedKeys`).
    case processing
    /// Processed to the end; never processed again while its identity is unchanged.
    case done
    /// Unreadable or undecodable; moved to the quarantine folder (`reason` says why). Not retried.
    case quarantined
    /// Gave up for a reason other than the file's content (e.g. it vanished or changed mid-run); `reason` says why.
    case failed
}

/// One file's row in the journal.
public struct FileRecord: Sendable, Equatable {
    /// Row id; pass it to `recordEvent`, `finish`, `quarantine`, `fail`, `emittedKeys`.
    public var id: Int64
    /// The config's source id (`sources[].id`).
    public var source: String
    public var identity: FileIdentity
    public var status: FileStatus
    /// Hash of the config (and models) the file was first begun with.
    public var configHash: String
    /// The largest `end` media time of an event recorded for the file; nil before the first event.
    public var emittedUntil: Double?
    /// How many distinct events were recorded for the file (kept after `finish` prunes the keys).
    public var events: Int
    /// Why the file was quarantined or failed; nil otherwise.
    public var reason: String?
    /// What the decoder met in a done file: truncation and damaged packets or frames (all zero for a clean file).
    public var damage: FileDamage
    public var startedAt: Date
    /// When it became done, quarantined or failed; nil while processing.
    public var finishedAt: Date?
}

/// What decoding a file met: an input that ended before its container said it would (or changed under the reader),
/// and packets or frames that were damaged. A done file with damage has events for only part of its content.
public struct FileDamage: Sendable, Equatable, Codable {
    /// The file ended early (cut short, or cut in place while it was read): later parts had no events.
    public var truncated: Bool
    /// Packets the decoder rejected (their pictures were lost).
    public var skippedPackets: Int
    /// Frames decoded with concealed errors.
    public var corruptFrames: Int
    /// What the decoder said about the truncation (e.g. "stream ended after 120 of 250 packets"), if anything.
    public var detail: String?

    public init(truncated: Bool = false, skippedPackets: Int = 0, corruptFrames: Int = 0, detail: String? = nil) {
        self.truncated = truncated
        self.skippedPackets = skippedPackets
        self.corruptFrames = corruptFrames
        self.detail = detail
    }

    /// Neither truncated nor damaged.
    public var isClean: Bool { !truncated && skippedPackets == 0 && corruptFrames == 0 }
}

/// One live stream's progress, per (source, url).
public struct StreamRecord: Sendable, Equatable {
    public var source: String
    public var url: String
    /// The last media time reported with progress (the stream's clock, which may restart at a reconnect).
    public var mediaTime: Double?
    /// Whether the stream was connected at the last report *of this journal instance* (a report from an earlier
    /// process reads as disconnected, since that process is gone).
    public var connected: Bool
    /// Transitions to connected (the first connection counts), over all runs.
    public var connects: Int
    /// Transitions from connected to disconnected, over all runs.
    public var outages: Int
    /// The last report with `connected: true`.
    public var lastSeen: Date?
    /// The last report of any kind.
    public var updatedAt: Date
}

/// A journal failure: what went wrong (`code`), on which file (`path`), and why (`detail`), plus where it was
/// raised in the daemon's source.
public struct JournalError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure. Opaque so that new kinds do not break callers' switches.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The journal file exists but is not a SQLite database, or is damaged (see `Journal.openOrRecover`).
        public static let corrupt = Code("corrupt journal")
        /// The journal could not be opened or created (permissions, missing folder, disk full, …).
        public static let cannotOpen = Code("cannot open journal")
        /// A query or update failed for another reason (I/O error, disk full, closed journal, …).
        public static let database = Code("journal database error")
        /// No file record has the given id.
        public static let unknownFile = Code("unknown file record")
        /// The file record is not `processing`, so the operation does not apply.
        public static let notProcessing = Code("file record not processing")
        /// A video file could not be opened, stat'ed or read.
        public static let fileUnreadable = Code("file unreadable")
        /// The path is not a regular file.
        public static let notRegularFile = Code("not a regular file")
        /// The file changed while its identity was being read.
        public static let fileChanging = Code("file changing")
    }

    public let code: Code
    /// The journal's path, or the video file's path for identity errors.
    public let path: String
    public let detail: String
    /// Where in the daemon's source the error was raised.
    public let sourceLocation: String

    public init(_ code: Code, path: String, detail: String, fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.path = path
        self.detail = detail
        self.sourceLocation = "\(fileID):\(line)"
    }

    public var description: String { "\(code): \(path): \(detail)" }

    static func fileUnreadable(
        _ path: String, operation: String, errno code: Int32, fileID: String = #fileID, line: Int = #line
    ) -> JournalError {
        JournalError(
            .fileUnreadable, path: path, detail: "\(operation) failed: \(String(cString: strerror(code)))",
            fileID: fileID, line: line)
    }
}

extension JournalError: LocalizedError {
    public var errorDescription: String? { description }
}
