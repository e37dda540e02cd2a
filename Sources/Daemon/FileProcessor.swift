// Runs the pipeline over one file exactly once: checks the journal (done files are skipped, an interrupted file
// is redone without re-emitting its events), writes each event to the sinks and then to the journal, and at the
// end applies the `done:` rule — or moves a file that cannot be decoded to quarantine with a `.error.json`.
import Foundation
import Logging
import Media
import Pipeline
import Stages

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
    /// Events could not be written (sink failure): the file stays pending and is retried.
    case retry(reason: String)
}

struct FileProcessor: Sendable {
    let context: SourceContext
    /// `done:` and `quarantine:` of a watch source; nil for `file:` sources (kept in place, failures marked).
    let watch: WatchOptions?

    func process(path: String, drain: DrainSignal) async -> FileOutcome {
        let log = context.logger
        var info = stat()
        guard stat(path, &info) == 0 else { return .vanished }
        guard info.st_mode & S_IFMT == S_IFREG else {
            log.warning("\(path): not a regular file; skipped")
            return .skipped(.failed)
        }
        let identity: FileIdentity
        do {
            identity = try FileIdentity.of(path: path)
        } catch let error as JournalError where error.code == .fileChanging {
            // Still being written: the watcher reports it again once it has settled or been closed.
            log.debug("\(path): still changing; waiting for the writer")
            return .notReady
        } catch {
            return quarantine(path: path, record: nil, reason: "cannot read the file: \(error)", size: Int64(info.st_size))
        }
        let recordID: Int64
        var emitted: Set<String>
        do {
            if let record = try context.journal.record(source: context.id, file: identity), record.status != .processing {
                log.debug("\(path): already \(record.status.rawValue) (journal), skipped")
                if record.status == .done { applyDone(path: path) }  // a crash may have come between finish and move
                return .skipped(record.status)
            }
            recordID = try context.journal.begin(source: context.id, file: identity, configHash: context.model.configHash)
            emitted = try context.journal.emittedKeys(file: recordID)
        } catch {
            return .retry(reason: "journal: \(error)")
        }
        emitted.formUnion(context.recovered.keys(source: context.id, media: path))
        if !emitted.isEmpty { log.info("\(path): resuming an interrupted file (\(emitted.count) events already written)") }
        if identity.size == 0 {
            return quarantine(path: path, record: recordID, reason: "empty file (0 bytes)", size: 0)
        }

        let built: FilePipeline
        do {
            let source = try context.decodeSource(path: path, decoder: DecoderOptions(threads: 1))
            built = try PipelineBuilder.build(source: source, sourceQueue: (capacity: context.source.queue, policy: .block),
                                              config: context.pipeline, threads: context.threads,
                                              onClipScores: context.clipCounter())
        } catch {
            return quarantine(path: path, record: recordID, reason: "\(error)", size: identity.size)
        }
        let counts = EventCounts()
        let seen = KeySet(emitted)
        let context = self.context
        do {
            let report = try await built.graph.run(drain: drain, monitor: context.monitor()) { packet in
                for segment in context.segments(from: packet, labels: built.labels) {
                    // After a drain request the pipeline flushes what it holds, cut at the drain point. A file is
                    // redone after the restart anyway, so these cut segments are left to the redo, which writes
                    // them whole (writing them now would make the redo's full segment a duplicate key).
                    if drain.isRequested { continue }
                    let event = context.event(segment, media: path)
                    let key = event.dedupeKey
                    if seen.contains(key) {
                        counts.deduplicated += 1
                        continue
                    }
                    try context.outputs.output.write(event)
                    try context.journal.recordEvent(file: recordID, key: key, end: event.end)
                    seen.insert(key)
                    counts.written += 1
                }
            }
            if report.drained {
                log.info("\(path): stopped at a drain after \(counts.written) events; it will be finished on the next run")
                return .interrupted
            }
        } catch is CancellationError {
            return .interrupted
        } catch let error as StageError where error.stage == "sink" {
            log.error("\(path): cannot write events (\(error.underlying)); the file stays pending and is retried")
            return .retry(reason: "\(error.underlying)")
        } catch {
            if Task.isCancelled { return .interrupted }
            return quarantine(path: path, record: recordID, reason: "\(error)", size: identity.size)
        }
        do {
            try context.journal.finish(file: recordID)
        } catch {
            return .retry(reason: "journal: \(error)")
        }
        context.metrics.add("actiond_files_processed_total", labels: context.labels, help: "Files processed to the end.")
        log.info(text: "\(path): done, \(counts.written) events" + (counts.deduplicated > 0
                 ? " (\(counts.deduplicated) already written by an interrupted run)" : ""))
        context.lifecycle(.fileDone, media: path, [("events", .int(counts.written))])
        applyDone(path: path)
        return .done(events: counts.written, deduplicated: counts.deduplicated)
    }

    /// `done: keep | delete | move:FOLDER`.
    func applyDone(path: String) {
        guard let watch else { return }
        switch watch.done {
        case .keep:
            return
        case .delete:
            if unlink(path) != 0, errno != ENOENT {
                context.logger.error("\(path): cannot delete after processing: \(String(cString: strerror(errno)))")
            }
        case let .move(folder):
            do {
                _ = try moveAside(path, into: folder)
            } catch {
                context.logger.error("\(path): cannot move to \(folder) after processing: \(error)")
            }
        }
    }

    /// Moves the file to the quarantine folder with `<name>.error.json` beside it (or, without one, leaves it and
    /// marks it failed), so it is never retried until it changes.
    func quarantine(path: String, record: Int64?, reason: String, size: Int64) -> FileOutcome {
        let log = context.logger
        var destination: String?
        if let folder = watch?.quarantine {
            do {
                let moved = try moveAside(path, into: folder)
                destination = moved
                let sidecar: [String: Any] = [
                    "v": 1, "ts": LineFormat.timestamp(Date()), "source": context.id,
                    "path": path, "quarantined": moved, "size": size, "reason": reason,
                ]
                let data = try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys, .prettyPrinted])
                try data.write(to: URL(fileURLWithPath: moved + ".error.json"), options: .atomic)
            } catch {
                log.error("\(path): cannot quarantine into \(folder): \(error)")
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
            log.error("\(path): journal: \(error)")
        }
        context.metrics.add("actiond_files_quarantined_total", labels: context.labels,
                            help: "Files that could not be processed (moved to quarantine or marked failed).")
        log.error("\(path): \(destination.map { "quarantined to \($0)" } ?? "failed"): \(reason)")
        var fields: [(String, LifecycleValue)] = [("reason", .string(reason))]
        if let destination { fields.append(("quarantined", .string(destination))) }
        context.lifecycle(.quarantine, media: path, fields)
        return .quarantined(reason: reason)
    }
}

/// Moves `path` into `folder` (created if missing) under its own name, or `name-1`, `name-2`, … if taken.
/// Returns the new path. Falls back to copy + delete across file systems.
func moveAside(_ path: String, into folder: String) throws -> String {
    let manager = FileManager.default
    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let name = (path as NSString).lastPathComponent
    let stem = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
    var target = (folder as NSString).appendingPathComponent(name)
    var n = 1
    while manager.fileExists(atPath: target) {
        target = (folder as NSString).appendingPathComponent(ext.isEmpty ? "\(stem)-\(n)" : "\(stem)-\(n).\(ext)")
        n += 1
    }
    if rename(path, target) != 0 {
        guard errno == EXDEV else {
            throw DaemonError.fileMove("cannot rename \(path) to \(target): \(String(cString: strerror(errno)))")
        }
        try manager.copyItem(atPath: path, toPath: target)
        try manager.removeItem(atPath: path)
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
