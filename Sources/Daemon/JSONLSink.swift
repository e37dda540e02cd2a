// The `jsonl` sink: appends whole lines to a log file shared by many sources, with an fsync policy, size-based
// rotation (`path.1` … `path.keep`) and reopening for external logrotate. A crash never leaves a torn line behind.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A sink operation that failed: which file, which operation, and why (the system's error text when a syscall
/// failed).
public struct SinkError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file (or folder) the operation was on.
    public var path: String
    /// What the sink was doing: `open`, `write`, `fsync`, `truncate`, `rename`, `unlink`, `close`, ….
    public var operation: String
    /// The `errno` of the failed syscall, or nil when the sink itself refused (bad argument, closed sink).
    public var errorNumber: Int32?
    /// Why: `strerror(errno)` for a failed syscall, else the sink's own explanation.
    public var reason: String

    /// Creates an error with an explicit reason.
    public init(path: String, operation: String, errorNumber: Int32? = nil, reason: String) {
        self.path = path
        self.operation = operation
        self.errorNumber = errorNumber
        self.reason = reason
    }

    /// An error for a failed syscall, its reason taken from `strerror`.
    static func system(_ operation: String, path: String, errorNumber: Int32) -> SinkError {
        let reason = String(cString: strerror(errorNumber))
        return SinkError(path: path, operation: operation, errorNumber: errorNumber, reason: reason)
    }

    /// `sink <path>: <operation> failed: <reason> (errno N)`.
    public var description: String {
        let code = errorNumber.map { " (errno \($0))" } ?? ""
        return "sink \(path): \(operation) failed: \(reason)\(code)"
    }
}

/// Appends JSON Lines to a file. Safe to use from many threads at once: every operation takes one lock, so
/// lines never interleave and a rotation never splits, loses or duplicates a line.
///
/// Each line is written with a single `write(2)` of its full bytes on an `O_APPEND` descriptor, so lines of
/// concurrent writers never mix and, in practice, a killed daemon leaves whole lines. Not always: Linux checks for
/// a fatal signal between the pages a write copies, so SIGKILL can cut a line that straddles a 4 KiB page
/// boundary, and power loss can leave a partial last line or zeros. Hence the real guarantee: opening the file
/// truncates it back to just after its last newline and reports the cut in `repairedBytes`.
public final class JSONLSink: Sendable {
    /// When written lines are forced to disk with `fsync(2)`.
    public enum Flush: Sendable, Equatable {
        /// After every line: nothing written is lost on power failure, at the cost of one fsync per event.
        case everyEvent
        /// At most once every `seconds`: when `flushIfDue()` (or a write) finds the interval passed, and on
        /// `sync()`, rotation, `reopen()` and `close()`.
        case interval(seconds: Double)
    }

    /// The file being appended to.
    public let path: String
    /// Rotate before a write that would make the file larger than this many bytes; nil never rotates.
    public let rotateSize: Int64?
    /// How many rotated files (`path.1` … `path.keep`) are kept; older ones are deleted.
    public let keep: Int
    /// The fsync policy.
    public let flush: Flush

    private struct State: Sendable {
        var fd: Int32 = -1
        var size: Int64 = 0
        var dirty = false
        var lastSync: Double = 0
        var closed = false
        var linesWritten = 0
        var rotations = 0
        var syncs = 0
        var repairedBytes = 0
    }

    private let state = Mutex(State())
    private let clock: @Sendable () -> Double

    /// Opens (creating it and its missing parent folders) `path` for appending, repairing a torn last line.
    /// - Parameters:
    ///   - rotateSize: rotate when a write would take the file past this many bytes (> 0), or nil.
    ///   - keep: rotated files to keep (≥ 0; 0 deletes the full file at rotation).
    ///   - flush: the fsync policy.
    /// - Throws: `SinkError` for bad arguments or when the file cannot be opened or repaired.
    public convenience init(path: String, rotateSize: Int64? = nil, keep: Int = 10, flush: Flush = .everyEvent)
        throws
    {
        try self.init(path: path, rotateSize: rotateSize, keep: keep, flush: flush, clock: JSONLSink.monotonicSeconds)
    }

    /// As the public initialiser, with the monotonic clock (seconds) the interval policy reads; tests pass their own.
    init(path: String, rotateSize: Int64?, keep: Int, flush: Flush, clock: @escaping @Sendable () -> Double) throws {
        guard !path.isEmpty else {
            throw SinkError(path: path, operation: "open", reason: "the path is empty")
        }
        if let rotateSize, rotateSize <= 0 {
            throw SinkError(path: path, operation: "open", reason: "rotate size must be positive, got \(rotateSize)")
        }
        guard keep >= 0 else {
            throw SinkError(path: path, operation: "open", reason: "keep must be 0 or more, got \(keep)")
        }
        if case .interval(let seconds) = flush, !(seconds >= 0 && seconds.isFinite) {
            throw SinkError(path: path, operation: "open", reason: "flush interval must be 0 or more seconds")
        }
        self.path = path
        self.rotateSize = rotateSize
        self.keep = keep
        self.flush = flush
        self.clock = clock
        try state.withLock { try self.openLocked(&$0) }
    }

    deinit {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            if state.dirty { _ = fsync(state.fd) }
            _ = Glibc.close(state.fd)
            state.fd = -1
        }
    }

    /// Bytes cut from torn last lines when the file was opened (at init and at each `reopen()`); the caller logs it.
    public var repairedBytes: Int { state.withLock { $0.repairedBytes } }
    /// Lines appended since init, across rotations and reopens.
    public var linesWritten: Int { state.withLock { $0.linesWritten } }
    /// Size rotations done since init.
    public var rotations: Int { state.withLock { $0.rotations } }
    /// `fsync(2)` calls made on the log file since init (not counting folder fsyncs).
    public var syncs: Int { state.withLock { $0.syncs } }

    /// Appends `line` and a newline with one `write(2)`, rotating first when the size limit asks for it, then
    /// applies the flush policy.
    /// - Throws: `SinkError` when the line contains a newline, the sink is closed, or a syscall fails. A write that
    ///   fails part way is truncated back, so the file never keeps part of a line.
    public func write(_ line: String) throws {
        var bytes = Array(line.utf8)
        if bytes.contains(0x0A) {
            throw SinkError(
                path: path, operation: "write", reason: "the line contains a newline (JSON Lines forbids it)")
        }
        bytes.append(0x0A)
        try state.withLock { state in
            guard !state.closed else {
                throw SinkError(path: path, operation: "write", reason: "the sink is closed")
            }
            // A failed rotation or reopen leaves no descriptor; try to get one back before giving up the line.
            if state.fd < 0 { try openLocked(&state) }
            if let rotateSize, state.size > 0, state.size + Int64(bytes.count) > rotateSize {
                try rotateLocked(&state)
            }
            try appendLocked(&state, bytes)
            state.linesWritten += 1
            switch flush {
            case .everyEvent: try syncLocked(&state)
            case .interval(let seconds): if clock() - state.lastSync >= seconds { try syncLocked(&state) }
            }
        }
    }

    /// Appends an action event's `jsonLine`.
    public func write(_ event: ActionEvent) throws { try write(event.jsonLine) }

    /// Appends a lifecycle event's `jsonLine`.
    public func write(_ event: LifecycleEvent) throws { try write(event.jsonLine) }

    /// With the `interval` policy, fsyncs when lines are waiting and the interval has passed since the last fsync.
    /// A timer calls this; with `everyEvent` there is never anything waiting.
    public func flushIfDue() throws {
        guard case .interval(let seconds) = flush else { return }
        try state.withLock { state in
            if state.dirty && clock() - state.lastSync >= seconds { try syncLocked(&state) }
        }
    }

    /// Fsyncs now if anything was written since the last fsync.
    public func sync() throws {
        try state.withLock { try syncLocked(&$0) }
    }

    /// Fsyncs and closes the current file, then opens `path` again, creating it. For external logrotate, which
    /// renames the file and sends SIGUSR1: lines written before this call are in the renamed file, later ones in
    /// the new `path`.
    public func reopen() throws {
        try state.withLock { state in
            guard !state.closed else {
                throw SinkError(path: path, operation: "reopen", reason: "the sink is closed")
            }
            if state.fd >= 0 {
                try syncLocked(&state)
                let fd = state.fd
                state.fd = -1
                if Glibc.close(fd) != 0 && errno != EINTR {
                    throw SinkError.system("close", path: path, errorNumber: errno)
                }
            }
            try openLocked(&state)
        }
    }

    /// Fsyncs what is waiting and closes the file; later writes throw. Closing twice does nothing.
    public func close() throws {
        try state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            guard state.fd >= 0 else { return }
            let fd = state.fd
            defer { state.fd = -1 }
            var syncError: Error?
            do { try syncLocked(&state) } catch { syncError = error }
            // Linux releases the descriptor even when close reports an error, so it is never retried.
            if Glibc.close(fd) != 0 && errno != EINTR {
                throw SinkError.system("close", path: path, errorNumber: errno)
            }
            if let syncError { throw syncError }
        }
    }

    // MARK: - Under the lock

    /// Opens `path` for appending, creating missing folders, cutting a torn last line, and fsyncing the folder so
    /// a new file's name survives a crash.
    private func openLocked(_ state: inout State) throws {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
        var fd = Glibc.open(path, flags, 0o640)
        if fd < 0 && errno == ENOENT {
            do {
                try makeFolders(folder)
            } catch {
                throw SinkError(path: error.folder, operation: "mkdir", reason: error.reason)
            }
            fd = Glibc.open(path, flags, 0o640)
        }
        guard fd >= 0 else { throw SinkError.system("open", path: path, errorNumber: errno) }
        do {
            let repaired = try repairTornTail(fd)
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw SinkError.system("fstat", path: path, errorNumber: errno) }
            try syncFolder()
            state.fd = fd
            state.size = Int64(info.st_size)
            state.dirty = false
            state.lastSync = clock()
            state.repairedBytes += repaired
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
    }

    /// When the file does not end in a newline (power loss mid-line, or zeros after a crash), truncates it to just
    /// after its last newline (or to empty) and fsyncs. Returns the bytes removed.
    private func repairTornTail(_ fd: Int32) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SinkError.system("fstat", path: path, errorNumber: errno) }
        let size = Int64(info.st_size)
        guard size > 0 else { return 0 }
        // The append descriptor cannot read; read through a second one, checked to be the same file.
        let reader = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw SinkError.system("open", path: path, errorNumber: errno) }
        defer { _ = Glibc.close(reader) }
        var readerInfo = stat()
        guard fstat(reader, &readerInfo) == 0 else { throw SinkError.system("fstat", path: path, errorNumber: errno) }
        guard readerInfo.st_ino == info.st_ino && readerInfo.st_dev == info.st_dev else { return 0 }

        let chunkSize: Int64 = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: Int(chunkSize))
        var end = size
        var keepLength: Int64 = 0
        search: while end > 0 {
            let begin = max(0, end - chunkSize)
            let wanted = Int(end - begin)
            var got = 0
            while got < wanted {
                let n = buffer.withUnsafeMutableBytes { raw in
                    pread(reader, raw.baseAddress! + got, wanted - got, off_t(begin) + off_t(got))
                }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    if n == 0 { return 0 }  // shrank under us: someone else owns this file; leave it alone
                    throw SinkError.system("read", path: path, errorNumber: errno)
                }
                got += n
            }
            if end == size && buffer[wanted - 1] == 0x0A { return 0 }
            for index in stride(from: wanted - 1, through: 0, by: -1) where buffer[index] == 0x0A {
                keepLength = begin + Int64(index) + 1
                break search
            }
            end = begin
        }
        guard ftruncate(fd, off_t(keepLength)) == 0 else {
            throw SinkError.system("truncate", path: path, errorNumber: errno)
        }
        guard fsync(fd) == 0 else { throw SinkError.system("fsync", path: path, errorNumber: errno) }
        return Int(size - keepLength)
    }

    /// Writes all of `bytes` at the end of the file; on failure removes whatever part of them got in.
    private func appendLocked(_ state: inout State, _ bytes: [UInt8]) throws {
        let failure = bytes.withUnsafeBytes { WholeWrite.write(state.fd, $0) }
        if let failure {
            if failure.written > 0 {
                // Only cut when the file is exactly what we wrote, so a line of another writer is never touched.
                var info = stat()
                let cut = fstat(state.fd, &info) == 0 && Int64(info.st_size) == state.size + Int64(failure.written)
                    && ftruncate(state.fd, off_t(state.size)) == 0
                if !cut {
                    // The partial line may still be there: drop the descriptor, so the next write reopens the
                    // file, and the reopen's torn-tail repair cuts back to the last whole line before appending.
                    Glibc.close(state.fd)
                    state.fd = -1
                }
            }
            throw SinkError.system("write", path: path, errorNumber: failure.errorNumber)
        }
        state.size += Int64(bytes.count)
        state.dirty = true
    }

    private func syncLocked(_ state: inout State) throws {
        guard state.fd >= 0, state.dirty else { return }
        while fsync(state.fd) != 0 {
            if errno != EINTR { throw SinkError.system("fsync", path: path, errorNumber: errno) }
        }
        state.syncs += 1
        state.dirty = false
        state.lastSync = clock()
    }

    /// fsync, close, shift `path.(keep-1)`→`path.keep` … `path`→`path.1`, drop files past `keep`, fsync the
    /// folder, open a fresh `path`.
    private func rotateLocked(_ state: inout State) throws {
        try syncLocked(&state)
        let fd = state.fd
        state.fd = -1
        _ = Glibc.close(fd)
        if keep == 0 {
            guard unlink(path) == 0 || errno == ENOENT else {
                throw SinkError.system("unlink", path: path, errorNumber: errno)
            }
        } else {
            for index in stride(from: keep - 1, through: 1, by: -1) {
                try renameIfPresent("\(path).\(index)", to: "\(path).\(index + 1)")
            }
            try renameIfPresent(path, to: "\(path).1")
        }
        try removeRotatedBeyondKeep()
        try syncFolder()
        try openLocked(&state)
        state.rotations += 1
    }

    private func renameIfPresent(_ from: String, to: String) throws {
        if rename(from, to) != 0 && errno != ENOENT {
            throw SinkError.system("rename to \(to)", path: from, errorNumber: errno)
        }
    }

    /// Deletes `path.N` for N > keep: left over when `keep` was lowered, or the one shifted past `keep`.
    private func removeRotatedBeyondKeep() throws {
        let prefix = (path as NSString).lastPathComponent + "."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            let suffix = name.dropFirst(prefix.count)
            guard !suffix.isEmpty, suffix.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(suffix),
                number > keep
            else { continue }
            let victim = (folder as NSString).appendingPathComponent(name)
            guard unlink(victim) == 0 || errno == ENOENT else {
                throw SinkError.system("unlink", path: victim, errorNumber: errno)
            }
        }
    }

    private var folder: String {
        let parent = (path as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// Makes renames and new names in the log folder durable.
    private func syncFolder() throws {
        let fd = Glibc.open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SinkError.system("open folder", path: folder, errorNumber: errno) }
        defer { _ = Glibc.close(fd) }
        while fsync(fd) != 0 {
            // Some filesystems cannot fsync a folder; that is not a reason to stop logging.
            if errno == EINVAL || errno == EROFS { return }
            if errno != EINTR { throw SinkError.system("fsync folder", path: folder, errorNumber: errno) }
        }
    }

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// One record, one `write(2)`: the write loop both sinks share.
enum WholeWrite {
    /// Writes all of `bytes` to `fd`, looping on short writes and EINTR and waiting when a non-blocking descriptor is
    /// full. Returns nil on success, else the errno and how many bytes did get written.
    static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (errorNumber: Int32, written: Int)? {
        guard let base = bytes.baseAddress else { return nil }
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, base + written, bytes.count - written)
            if n > 0 {
                written += n
            } else if n == 0 {
                return (EIO, written)
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                var waiter = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&waiter, 1, -1)
            } else {
                return (errno, written)
            }
        }
        return nil
    }
}
