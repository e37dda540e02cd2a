// Watches a folder with inotify and reports each matching file once it is complete: closed after writing,
// renamed in, or (for writers that keep the file open) unchanged for the settle time. The watch is created
// before the folder is scanned, so a file that arrives during the scan is seen by one or the other.
import Foundation
import Glibc
import Synchronization

/// A file the watcher considers fully written.
public struct ReadyFile: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// The writer closed it (IN_CLOSE_WRITE).
        case closed
        /// It was renamed into the folder (IN_MOVED_TO): the usual "write a temp file, then rename" pattern.
        case movedIn = "moved-in"
        /// Seen being written, then unchanged (size and mtime) for the settle time.
        case settled
        /// Already there when the watch started, and not modified within the settle time.
        case existing
    }
    public var path: String
    public var reason: Reason
}

public struct WatchError: Error, Sendable, CustomStringConvertible {
    public var directory: String
    public var message: String
    public var description: String { "cannot watch \(directory): \(message)" }
}

/// What the watcher tells its owner besides ready files.
public enum WatchNotice: Sendable, Equatable {
    case ready(ReadyFile)
    /// The watched folder vanished or was moved away; the watcher retries until it is back.
    case lost(String)
    /// The watch is (again) in place.
    case watching
    /// The kernel queue overflowed; the folder was rescanned.
    case overflow
    /// An entry that is not taken, and why (a folder of a non-recursive watch, a symbolic link that cannot be
    /// followed or is not followed, not a regular file). Reported once per path.
    case skipped(path: String, reason: String)
}

public final class DirectoryWatcher: Sendable {
    public let directory: String
    public let match: [String]
    public let recursive: Bool
    public let settle: Double
    /// Folders never reported from (a `done` or quarantine folder inside a recursive watch).
    public let excluded: [String]
    /// Seconds on a monotonic clock: the settle and close-quiet times are measured on it. Tests pass a clock they
    /// advance themselves, so settling is checked without waiting for it.
    let clock: @Sendable () -> Double
    private let stopped = Mutex(false)
    private let done = Mutex<Bool>(false)

    /// Names of files still being written by tools that use a temporary name before renaming.
    static let partialSuffixes = [".tmp", ".part", ".partial", ".crdownload", ".swp", ".download", "~"]

    public init(directory: String, match: [String], recursive: Bool = false, settle: Double = 2,
                excluded: [String] = [], clock: @escaping @Sendable () -> Double = DirectoryWatcher.monotonicSeconds) {
        self.directory = Self.normalized(directory)
        self.match = match
        self.recursive = recursive
        self.settle = settle
        self.excluded = excluded.map(Self.normalized)
        self.clock = clock
    }

    /// CLOCK_MONOTONIC in seconds: the watcher's clock unless a test gives it another.
    public static func monotonicSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    static func normalized(_ path: String) -> String {
        var result = (path as NSString).standardizingPath
        while result.count > 1, result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// Starts watching on a thread of its own and returns what it sees. Throws if the folder cannot be
    /// watched at all (missing, not a folder, no permission); later losses arrive as `.lost`.
    public func notices() throws(WatchError) -> AsyncStream<WatchNotice> {
        let loop = try WatchLoop(owner: self)
        let (stream, continuation) = AsyncStream<WatchNotice>.makeStream(bufferingPolicy: .unbounded)
        let thread = Thread { [self] in
            loop.run(continuation: continuation, stopped: { self.stopped.withLock { $0 } })
            continuation.finish()
        }
        thread.name = "watch \(directory)"
        thread.start()
        continuation.onTermination = { [self] _ in stop() }
        return stream
    }

    /// Stops the watch thread (within ~0.1 s); the stream then finishes.
    public func stop() { stopped.withLock { $0 = true } }

    /// True for names the watcher reports: matching a pattern, not hidden, not a partial download.
    public func accepts(name: String) -> Bool {
        if name.hasPrefix(".") { return false }
        if Self.partialSuffixes.contains(where: { name.hasSuffix($0) }) { return false }
        return match.contains { fnmatch($0, name, 0) == 0 }
    }

    func isExcluded(_ path: String) -> Bool {
        excluded.contains { path == $0 || path.hasPrefix($0 + "/") }
    }
}

/// The inotify descriptor, the watch descriptors and the files seen being written. Used by one thread.
private final class WatchLoop: @unchecked Sendable {
    let owner: DirectoryWatcher
    var fd: Int32 = -1
    var folders: [Int32: String] = [:]
    /// Files seen being written: last observed size and mtime, when they last changed, and whether the last
    /// thing seen was the writer closing it.
    var pending: [String: Pending] = [:]

    struct Pending {
        var size: Int64
        var mtime: timespec
        var changed: Double
        var closed = false
        var movedIn = false
    }

    /// After a writer closes a file, this long without another change before it is taken: catches writers that
    /// create (or truncate) and close a file, then reopen it to write.
    var closeQuiet: Double { min(owner.settle, 0.3) }
    var lost = false
    var lastRetry = 0.0
    /// Entries already reported as skipped.
    var skipped: Set<String> = []

    init(owner: DirectoryWatcher) throws(WatchError) {
        self.owner = owner
        var info = stat()
        guard stat(owner.directory, &info) == 0 else {
            throw WatchError(directory: owner.directory, message: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw WatchError(directory: owner.directory, message: "not a folder")
        }
        guard access(owner.directory, R_OK | X_OK) == 0 else {
            throw WatchError(directory: owner.directory, message: "no permission to read it")
        }
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else {
            throw WatchError(directory: owner.directory, message: "inotify_init1: \(String(cString: strerror(errno)))")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    static let fileEvents = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM)
    static let selfEvents = UInt32(IN_DELETE_SELF | IN_MOVE_SELF)

    func run(continuation: AsyncStream<WatchNotice>.Continuation, stopped: () -> Bool) {
        let emit: (WatchNotice) -> Void = { continuation.yield($0) }
        if !addTree(owner.directory, emit: emit) { markLost(emit: emit) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !stopped() {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready > 0 { drain(&buffer, emit: emit) }
            checkPending(emit: emit)
            if lost, now() - lastRetry >= 1 {
                lastRetry = now()
                if addTree(owner.directory, emit: emit) { lost = false }
            }
        }
    }

    func now() -> Double { owner.clock() }

    func markLost(emit: (WatchNotice) -> Void) {
        guard !lost else { return }
        lost = true
        lastRetry = now()
        for wd in folders.keys { inotify_rm_watch(fd, wd) }
        folders.removeAll()
        pending.removeAll()
        emit(.lost("the watched folder \(owner.directory) is gone or not readable"))
    }

    /// Watches `folder` (and its subfolders when recursive), then scans what is already there. The watched folder
    /// itself is reported `.watching` as soon as its watch is in place, before the files found by the scan: the
    /// owner may spend long on those, and nothing written meanwhile is missed.
    @discardableResult
    func addTree(_ folder: String, emit: (WatchNotice) -> Void) -> Bool {
        guard !owner.isExcluded(folder) else { return true }
        let mask = LoopMasks.onlyDirectory | Self.fileEvents | (folder == owner.directory ? Self.selfEvents : 0)
        let wd = inotify_add_watch(fd, folder, mask)
        guard wd >= 0 else { return false }
        if let other = folders[wd], other != folder {
            // The kernel already watches this folder under another path (a bind mount inside the tree): a loop.
            skip(folder, "the same folder as \(other) (a loop); not watched twice", emit: emit)
            return true
        }
        folders[wd] = folder
        if folder == owner.directory { emit(.watching) }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return true }
        for name in names.sorted() {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFLNK, owner.accepts(name: name) || owner.recursive {
                // A link is taken as the file it points to; links to folders are never followed (loops).
                var target = stat()
                if stat(path, &target) != 0 {
                    skip(path, "a symbolic link that cannot be followed: \(String(cString: strerror(errno)))",
                         emit: emit)
                    continue
                }
                if target.st_mode & S_IFMT == S_IFDIR {
                    skip(path, "a symbolic link to a folder (not followed)", emit: emit)
                    continue
                }
                info = target
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                if name.hasPrefix(".") || owner.isExcluded(path) { continue }
                if owner.recursive {
                    addTree(path, emit: emit)
                } else {
                    skip(path, "a folder (the watch is not recursive)", emit: emit)
                }
            } else if info.st_mode & S_IFMT != S_IFREG, owner.accepts(name: name) {
                skip(path, "not a regular file", emit: emit)
            } else if info.st_mode & S_IFMT == S_IFREG, owner.accepts(name: name) {
                let age = Date().timeIntervalSince1970 - (Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) * 1e-9)
                if age >= owner.settle {
                    pending.removeValue(forKey: path)
                    emit(.ready(ReadyFile(path: path, reason: .existing)))
                } else {
                    pending[path] = Pending(size: Int64(info.st_size), mtime: info.st_mtim, changed: now())
                }
            }
        }
        return true
    }

    func drain(_ buffer: inout [UInt8], emit: (WatchNotice) -> Void) {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameBytes = buffer[(offset + header)..<(offset + header + length)]
                let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                offset += header + length
                handle(wd: wd, mask: mask, name: name, emit: emit)
            }
        }
    }

    func handle(wd: Int32, mask: UInt32, name: String, emit: (WatchNotice) -> Void) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            emit(.overflow)
            for folder in Array(folders.values) { rescan(folder, emit: emit) }
            return
        }
        guard let folder = folders[wd] else { return }
        if mask & UInt32(IN_IGNORED) != 0 || mask & Self.selfEvents != 0 {
            folders.removeValue(forKey: wd)
            if folder == owner.directory { markLost(emit: emit) }
            return
        }
        guard !name.isEmpty else { return }
        let path = folder + "/" + name
        if mask & UInt32(IN_ISDIR) != 0 {
            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0, !name.hasPrefix("."), !owner.isExcluded(path) {
                if owner.recursive {
                    addTree(path, emit: emit)
                } else {
                    skip(path, "a folder (the watch is not recursive)", emit: emit)
                }
            }
            return
        }
        guard owner.accepts(name: name), !owner.isExcluded(path) else { return }
        if mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0 {
            pending.removeValue(forKey: path)
        } else if mask & UInt32(IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE | IN_MODIFY) != 0 {
            var info = stat()
            guard stat(path, &info) == 0 else {
                // Gone already (ENOENT) is the normal end of a temporary file; anything else is worth a word.
                if errno != ENOENT { skip(path, "cannot be read: \(String(cString: strerror(errno)))", emit: emit) }
                return
            }
            if info.st_mode & S_IFMT == S_IFDIR {
                skip(path, "a symbolic link to a folder (not followed)", emit: emit)
                return
            }
            let movedIn = mask & UInt32(IN_MOVED_TO) != 0
            let closed = movedIn || mask & UInt32(IN_CLOSE_WRITE) != 0
            // Closed or renamed in: taken after a short quiet time unless it changes again (writers that create a
            // file, close or rename it, then reopen it to write). An empty file is never taken as finished — no
            // video is empty — only once it has been still for the settle time.
            pending[path] = Pending(size: Int64(info.st_size), mtime: info.st_mtim, changed: now(),
                                    closed: closed && info.st_size > 0, movedIn: movedIn)
        }
    }

    /// Reports an entry that is not taken, once per path for the life of the watch.
    func skip(_ path: String, _ reason: String, emit: (WatchNotice) -> Void) {
        guard skipped.insert(path).inserted else { return }
        emit(.skipped(path: path, reason: reason))
    }

    /// After an overflow: every matching file not yet reported is pending again (the consumer's journal makes a
    /// second report of a finished file harmless).
    func rescan(_ folder: String, emit: (WatchNotice) -> Void) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where owner.accepts(name: name) {
            let path = folder + "/" + name
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if pending[path] == nil {
                pending[path] = Pending(size: Int64(info.st_size), mtime: info.st_mtim, changed: now() - owner.settle)
            }
        }
    }

    /// Reports pending files whose size and mtime have not changed for the settle time.
    func checkPending(emit: (WatchNotice) -> Void) {
        guard !pending.isEmpty else { return }
        let t = now()
        for (path, seen) in pending {
            var info = stat()
            guard stat(path, &info) == 0 else {
                pending.removeValue(forKey: path)
                continue
            }
            if Int64(info.st_size) != seen.size || info.st_mtim.tv_sec != seen.mtime.tv_sec
                || info.st_mtim.tv_nsec != seen.mtime.tv_nsec {
                pending[path] = Pending(size: Int64(info.st_size), mtime: info.st_mtim, changed: t)
            } else if seen.closed, t - seen.changed >= closeQuiet {
                pending.removeValue(forKey: path)
                emit(.ready(ReadyFile(path: path, reason: seen.movedIn ? .movedIn : .closed)))
            } else if t - seen.changed >= owner.settle {
                pending.removeValue(forKey: path)
                emit(.ready(ReadyFile(path: path, reason: .settled)))
            }
        }
    }
}

/// inotify constants that do not import as the right type.
private enum LoopMasks {
    static let onlyDirectory = UInt32(IN_ONLYDIR)
}
