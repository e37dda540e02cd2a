// Runs the pipeline over one file exactly once: checks the journal (done files are skipped, an interrupted file
// is redone without re-emitting its events), writes each event to the sinks and then to the journal, and at the
// end applies the `done:` rule — or moves a file that cannot be decoded to quarantine with a `.error.json`.
import Foundation
import Logging
import Media
import Pipeline
import Stages
import Synchronization

/// What happened to one file.
public enum FileOutcome: Sendable, Equatable {
    /// Processed to the end: `events` written now, `deduplicated` suppressed because an earlier run wrote them.
    case done(events: Int, deduplicated: Int)
    /// The journal says this exact file was already handled (done, quarantined or failed).
    case skipped(FileStatus)
    /// Moved to quarantine (or, without a quarantine folder, marked failed) for `reason`.
    case quarantined(reason: String)
    /// Stopped by shutdown or reload before the end; the next run redoes it (without duplicate events).
    case interrupted
    /// The file vanished before it could be read.
    case vanished
    /// The file changed while it was being identified (a writer is still at it); it comes back when complete.
    case notReady
    /// The file changed after it was read (a writer came back, or a failed read was followed by more writing): not
    /// moved, not quarantined; the watcher reports it again once it is still.
    case changed
    /// Processed, but the path now holds another file (renamed over it mid-run) or none: nothing was moved.
    case replaced
    /// Events could not be written (sink failure): the file stays pending and is retried.
    case retry(reason: String)
}

struct FileProcessor: Sendable {
    let context: SourceContext
    /// `done:` and `quarantine:` of a watch source; nil for `file:` sources (kept in place, failures marked).
    let watch: WatchOptions?

    func process(path: String, drain: DrainSignal) async -> FileOutcome {
        let log = context.logger, shown = path.loggable
        var info = stat()
        guard stat(path, &info) == 0 else { return .vanished }
        guard info.st_mode & S_IFMT == S_IFREG else {
            log.warning("\(shown): not a regular file; skipped")
            return .skipped(.failed)
        }
        let identity: FileIdentity
        do {
            identity = try FileIdentity.of(path: path)
        } catch let error as JournalError where error.code == .fileChanging {
            // Still being written: the watcher reports it again once it has settled or been closed.
            log.debug("\(shown): still changing; waiting for the writer")
            return .notReady
        } catch {
            return quarantine(path: path, record: nil, reason: "cannot read the file: \(error)", size: Int64(info.st_size))
        }
        let recordID: Int64
        var emitted: Set<String>
        var adopted = 0
        do {
            if let record = try context.journal.record(source: context.id, file: identity), record.status != .processing {
                log.debug("\(shown): already \(record.status.rawValue) (journal), skipped")
                if record.status == .done { applyDone(path: path) }  // a crash may have come between finish and move
                return .skipped(record.status)
            }
            recordID = try context.journal.begin(source: context.id, file: identity, configHash: context.model.configHash)
            // An earlier version of this same file (it grew or was rewritten while it was read): its events stand.
            adopted = try context.journal.adoptEarlierVersions(source: context.id, file: identity, into: recordID)
            emitted = try context.journal.emittedKeys(file: recordID)
        } catch {
            return .retry(reason: "journal: \(error)")
        }
        emitted.formUnion(context.recovered.keys(source: context.id, media: path))
        if adopted > 0 {
            log.info(text: "\(shown): continuing from the part read before it grew (\(emitted.count) events already "
                     + "written)")
        } else if !emitted.isEmpty {
            log.info("\(shown): resuming an interrupted file (\(emitted.count) events already written)")
        }
        if identity.size == 0 {
            return await failed(path: path, identity: identity, record: recordID, reason: "empty file (0 bytes)",
                                drain: drain)
        }

        let graph: StageGraph
        let tally = DecodeTally()
        do {
            let source = try context.decodeSource(path: path, decoder: DecoderOptions(threads: 1, stillImages: false),
                                                  tally: tally)
            graph = try context.graph(source: source, policy: .block)
        } catch {
            return await failed(path: path, identity: identity, record: recordID, reason: "\(error)", drain: drain)
        }
        let counts = EventCounts()
        let seen = KeySet(emitted)
        let context = self.context
        do {
            let report = try await graph.run(drain: drain, monitor: context.monitor()) { packet in
                guard let segment = packet.value as? ActionSegment else { return }
                // After a drain request the pipeline flushes what it holds, cut at the drain point. A file is
                // redone after the restart anyway, so these cut segments are left to the redo, which writes
                // them whole (writing them now would make the redo's full segment a duplicate key).
                if drain.isRequested { return }
                let event = context.event(segment, media: path)
                let key = event.dedupeKey
                if seen.contains(key) {
                    counts.deduplicated += 1
                    return
                }
                try context.outputs.output.write(event)
                try context.journal.recordEvent(file: recordID, key: key, end: event.end)
                seen.insert(key)
                counts.written += 1
            }
            if report.drained {
                log.info(text: "\(shown): stopped at a drain after \(counts.written) events; it will be finished on "
                         + "the next run")
                return .interrupted
            }
        } catch is CancellationError {
            return .interrupted
        } catch let error as StageError where error.stage == "sink" {
            log.error("\(shown): cannot write events (\(error.underlying)); the file stays pending and is retried")
            return .retry(reason: "\(error.underlying)")
        } catch {
            if Task.isCancelled { return .interrupted }
            return await failed(path: path, identity: identity, record: recordID, reason: "\(error)", drain: drain)
        }

        // Which file is at the path now? Only the file that was read is moved by the `done:` rule. A short file in a
        // watched folder may be one a writer is still at: it is settled first.
        var change = FileChange(identity, now: path)
        var damage = tally.damage
        if change == .same, !damage.truncated {
            // The decoder flags a short file at its end, which the last frame may not have carried here.
            if let scan = (try? VideoDecoder(path, options: DecoderOptions(threads: 1)))?.scanToEnd(), scan.truncated {
                damage.truncated = true
                damage.detail = scan.readError
            }
        }
        if damage.truncated || change != .same {
            guard let settled = await settledChange(identity, path: path, drain: drain) else { return .interrupted }
            change = settled
        }
        switch change {
        case .same, .replaced, .gone:
            break
        case .shrunk:
            damage.truncated = true
            damage.detail = "the file \(change) while it was read (it had \(identity.size))"
        case .rewritten:
            // Written to again (a writer that came back): what was read was not the whole file. The record stays
            // open, so the next version of the file takes over its events; the watcher reports it once still.
            log.info(text: "\(shown): \(change) while it was processed (\(counts.written) events written); "
                     + "it is taken again once still")
            return .changed
        }
        do {
            try context.journal.finish(file: recordID, damage: damage)
        } catch {
            return .retry(reason: "journal: \(error)")
        }
        context.metrics.add("actiond_files_processed_total", labels: context.labels, help: "Files processed to the end.")
        let dedupe = counts.deduplicated > 0 ? " (\(counts.deduplicated) already written by an earlier run)" : ""
        if damage.isClean {
            log.info(text: "\(shown): done, \(counts.written) events" + dedupe)
        } else {
            log.warning(text: "\(shown): done, \(counts.written) events" + dedupe + ", but "
                        + damage.summary.loggable(replacing: path) + ": events cover only what could be decoded")
        }
        context.lifecycle(.fileDone, media: path, [
            ("events", .int(counts.written)), ("truncated", .bool(damage.truncated)),
            ("skipped_packets", .int(damage.skippedPackets)), ("corrupt_frames", .int(damage.corruptFrames)),
        ] + (damage.detail.map { [("damage", LifecycleValue.string($0))] } ?? []))
        switch change {
        case .replaced, .gone:
            // The file that was read is gone from the path: another one (or none) is there now, and is not moved.
            log.info(text: "\(shown): \(change) while it was processed; "
                     + (change == .gone ? "nothing to move" : "the new file is processed as a file of its own"))
            return .replaced
        default:
            applyDone(path: path)
            return .done(events: counts.written, deduplicated: counts.deduplicated)
        }
    }

    /// A file that could not be read or decoded. Quarantined — unless the path no longer holds the file that was
    /// read, or (a watched folder) it is written to before it has been still for `settle` seconds: then a writer is
    /// still at it (writers that append in bursts), and the watcher reports it again once it is still.
    func failed(path: String, identity: FileIdentity, record: Int64, reason: String, drain: DrainSignal) async
        -> FileOutcome
    {
        guard let change = await settledChange(identity, path: path, drain: drain) else { return .interrupted }
        switch change {
        case .same, .shrunk:
            return quarantine(path: path, record: record, reason: reason, size: identity.size)
        case .rewritten:
            context.logger.info(text: "\(path.loggable): could not be decoded, but \(change) since; not quarantined: "
                                + "it is taken again once still")
            return .changed
        case .replaced, .gone:
            do { try context.journal.fail(file: record, reason: "\(change) after a failed read: \(reason)") } catch {
                context.logger.error("\(path.loggable): journal: \(error)")
            }
            context.logger.info(text: "\(path.loggable): could not be decoded, but \(change) since; not quarantined")
            return .replaced
        }
    }

    /// How the file at `path` compares with the file that was read, once it has been still for the settle time of
    /// a watched folder — or as soon as it has been written to beyond what was read, or replaced (a writer at work:
    /// the watcher reports it again). Without a watch, at once. Nil if a drain came first.
    func settledChange(_ identity: FileIdentity, path: String, drain: DrainSignal) async -> FileChange? {
        guard let watch else { return FileChange(identity, now: path) }
        // Still since its mtime, or since this process saw it change; an mtime in the future counts as now.
        var seen: (size: Int64, mtime: Double)?
        var stillSince = Date().timeIntervalSince1970
        while true {
            let change = FileChange(identity, now: path)
            switch change {
            case .rewritten, .replaced, .gone: return change
            case .same, .shrunk: break
            }
            var info = stat()
            guard stat(path, &info) == 0 else { return .gone }
            let now = Date().timeIntervalSince1970
            let state = (size: Int64(info.st_size),
                         mtime: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
            if let seen {
                if seen != state { stillSince = now }
            } else {
                stillSince = min(now, state.mtime)
            }
            seen = state
            let still = now - stillSince
            if still >= watch.settle { return change }
            guard await pause(min(0.1, watch.settle - still), drain: drain) else { return nil }
        }
    }

    /// `done: keep | delete | move:FOLDER`.
    func applyDone(path: String) {
        guard let watch else { return }
        switch watch.done {
        case .keep:
            return
        case .delete:
            if unlink(path) != 0, errno != ENOENT {
                let reason = String(cString: strerror(errno))
                context.logger.error("\(path.loggable): cannot delete after processing: \(reason)")
            }
        case let .move(folder):
            do {
                _ = try moveAside(path, into: folder)
            } catch {
                context.logger.error("\(path.loggable): cannot move to \(folder.loggable) after processing: \(error)")
            }
        }
    }

    /// Moves the file to the quarantine folder with `<name>.error.json` beside it (or, without one, leaves it and
    /// marks it failed), so it is never retried until it changes.
    func quarantine(path: String, record: Int64?, reason: String, size: Int64) -> FileOutcome {
        let log = context.logger, shown = path.loggable
        var destination: String?
        if let folder = watch?.quarantine {
            do {
                destination = try moveAside(path, into: folder)
            } catch {
                log.error(text: "\(shown): cannot quarantine into \(folder.loggable): \(error); the file stays and "
                          + "is marked failed")
            }
        }
        if let moved = destination {
            let sidecar = Self.sidecarPath(for: moved)
            let fields: [String: Any] = [
                "v": 1, "ts": LineFormat.timestamp(Date()), "source": context.id, "path": path, "quarantined": moved,
                "name": (moved as NSString).lastPathComponent, "size": size, "reason": reason,
            ]
            do {
                let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .prettyPrinted])
                try data.write(to: URL(fileURLWithPath: sidecar), options: .atomic)
            } catch {
                log.error("\(moved.loggable): cannot write \(sidecar.loggable): \(plainReason(error))")
            }
        }
        do {
            if let record {
                if destination != nil {
                    try context.journal.quarantine(file: record, reason: reason)
                } else {
                    try context.journal.fail(file: record, reason: reason)
                }
            }
        } catch {
            log.error("\(shown): journal: \(error)")
        }
        context.metrics.add("actiond_files_quarantined_total", labels: context.labels,
                            help: "Files that could not be processed (moved to quarantine or marked failed).")
        log.error(text: "\(shown): \(destination.map { "quarantined to \($0.loggable)" } ?? "failed"): "
                  + reason.loggable(replacing: path))
        var fields: [(String, LifecycleValue)] = [("reason", .string(reason))]
        if let destination { fields.append(("quarantined", .string(destination))) }
        context.lifecycle(.quarantine, media: path, fields)
        return .quarantined(reason: reason)
    }

    /// `<moved file>.error.json`, or — when that name would be longer than a file name may be — the name cut short
    /// with a hash of the whole name (`<start of name>~<8 hex>.error.json`); the sidecar's `name` field holds the
    /// full name.
    static func sidecarPath(for moved: String) -> String {
        let folder = (moved as NSString).deletingLastPathComponent
        let name = (moved as NSString).lastPathComponent
        let suffix = ".error.json"
        guard name.utf8.count + suffix.utf8.count > maxNameBytes else { return moved + suffix }
        let tag = "~" + String(sha256Hex(Data(name.utf8)).prefix(8))
        return (folder as NSString).appendingPathComponent(
            name.truncatedToUTF8(maxNameBytes - suffix.utf8.count - tag.utf8.count) + tag + suffix)
    }
}

/// How the file at a path compares with the file that was read from it.
enum FileChange: Equatable, CustomStringConvertible {
    /// The same file, unchanged.
    case same
    /// Nothing is at the path any more.
    case gone
    /// Another file (another device or inode) is at the path: renamed over it, or deleted and written anew.
    case replaced
    /// The same file, now smaller: cut in place.
    case shrunk(size: Int64)
    /// The same file, grown or written to (size or mtime moved).
    case rewritten(size: Int64)

    init(_ identity: FileIdentity, now path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            self = .gone
            return
        }
        if let device = identity.device, let inode = identity.inode,
           UInt64(info.st_dev) != device || UInt64(info.st_ino) != inode {
            self = .replaced
            return
        }
        let mtime = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
        if Int64(info.st_size) < identity.size {
            self = .shrunk(size: Int64(info.st_size))
        } else if Int64(info.st_size) != identity.size || mtime != identity.mtime {
            self = .rewritten(size: Int64(info.st_size))
        } else {
            self = .same
        }
    }

    var size: Int64? {
        switch self {
        case let .shrunk(size), let .rewritten(size): return size
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .same: return "unchanged"
        case .gone: return "was removed"
        case .replaced: return "was replaced by another file"
        case let .shrunk(size): return "was cut to \(size) bytes"
        case let .rewritten(size): return "was written to (now \(size) bytes)"
        }
    }
}

/// The decoder's counters as the last decoded frame left them, read once the file is done.
final class DecodeTally: Sendable {
    private let last = Mutex(DecodeStats())
    func update(_ stats: DecodeStats) { last.withLock { $0 = stats } }
    var damage: FileDamage {
        let stats = last.withLock { $0 }
        return FileDamage(truncated: stats.truncated, skippedPackets: stats.skippedPackets,
                          corruptFrames: stats.corruptFrames, detail: stats.truncated ? stats.readError : nil)
    }
}

extension FileDamage {
    /// "truncated (stream ended after 120 of 250 packets), 3 skipped packets": for the log.
    var summary: String {
        var parts: [String] = []
        if truncated { parts.append("truncated" + (detail.map { " (\($0))" } ?? "")) }
        if skippedPackets > 0 { parts.append("\(skippedPackets) skipped packets") }
        if corruptFrames > 0 { parts.append("\(corruptFrames) damaged frames") }
        return parts.joined(separator: ", ")
    }
}

/// The longest file name (bytes) Linux file systems take.
let maxNameBytes = Int(NAME_MAX)

/// Moves `path` into `folder` (created if missing) under its own name, or `name-1`, `name-2`, … if taken (a name
/// too long for that is cut short first). Returns the new path. Falls back to copy + delete across file systems.
/// Errors say which folder or file and why, in one line.
func moveAside(_ path: String, into folder: String) throws -> String {
    let manager = FileManager.default
    do {
        try makeFolders(folder)
    } catch {
        throw DaemonError.fileMove(error.folder == folder ? error.reason : "\(error)")
    }
    let name = (path as NSString).lastPathComponent
    let stem = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
    var target = (folder as NSString).appendingPathComponent(name)
    var n = 1
    while manager.fileExists(atPath: target) {
        let tail = ext.isEmpty ? "-\(n)" : "-\(n).\(ext)"
        let fitted = stem.truncatedToUTF8(maxNameBytes - tail.utf8.count) + tail
        target = (folder as NSString).appendingPathComponent(fitted)
        n += 1
    }
    if rename(path, target) != 0 {
        guard errno == EXDEV else {
            throw DaemonError.fileMove("cannot rename \(path) to \(target): \(String(cString: strerror(errno)))")
        }
        do {
            try manager.copyItem(atPath: path, toPath: target)
            try manager.removeItem(atPath: path)
        } catch {
            throw DaemonError.fileMove("cannot move \(path) to \(target): \(plainReason(error))")
        }
    }
    return target
}

/// Counters and the dedupe set of one file run, touched only from the pipeline's sink task.
final class EventCounts: @unchecked Sendable {
    var written = 0
    var deduplicated = 0
}

final class KeySet: @unchecked Sendable {
    private var keys: Set<String>
    init(_ keys: Set<String>) { self.keys = keys }
    func contains(_ key: String) -> Bool { keys.contains(key) }
    func insert(_ key: String) { keys.insert(key) }
}
