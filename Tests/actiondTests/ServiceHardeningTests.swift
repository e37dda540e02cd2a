// `actiond run` as a real process against what real writers and damaged inputs do: a file renamed over one being
// processed, a writer that appends in bursts, files cut short (before and while they are read), inputs that are
// not videos or claim too much, names too long or with a newline, a quarantine path that is a file, entries that
// are skipped, a stream that never connects, and lifecycle events met by a full disk.
import Foundation
import Glibc
import TestSupport
import XCTest

extension ServiceTests {
    /// Lifecycle lines of a log (`event` key), in order.
    func lifecycleLines(_ log: String) -> [[String: Any]] {
        logLines(log).compactMap { $0 }.filter { $0["event"] != nil }
    }

    /// (label, start, end) of action lines, for comparing files whatever their name.
    func segments(_ lines: [[String: Any]], media: String) -> [String] {
        lines.filter { $0["event"] == nil && $0["media"] as? String == media }.compactMap { line in
            guard let label = line["label"] as? String, let start = line["start"] as? Double,
                  let end = line["end"] as? Double else { return nil }
            return String(format: "%@ %.3f-%.3f", label, start, end)
        }
    }

    func referenceSegments(_ file: String) throws -> [String] {
        try reference(file).map { String(format: "%@ %.3f-%.3f", $0.label, $0.start, $0.end) }
    }

    /// Waits until the first action event of `media` is in the log, then stops the daemon (SIGSTOP) so that what
    /// the test does next lands while that file is being processed.
    func pauseDaemonMidFile(_ daemon: DaemonProcess, log: String, media: String) -> Bool {
        let seen = eventually(timeout: 120) {
            logLines(log).contains { $0?["event"] == nil && $0?["media"] as? String == media }
        }
        daemon.signal(SIGSTOP)
        return seen
    }

    /// Sets a running process's RLIMIT_FSIZE with util-linux `prlimit` (Glibc's prlimit(2) does not import).
    func setFileSizeLimit(of pid: Int32, to limits: String) throws -> Int32 {
        try runProcess("/usr/bin/prlimit", ["--pid", "\(pid)", "--fsize=\(limits)"]).status
    }

    func ffmpeg(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/ffmpeg", ["-v", "error", "-y"] + arguments)
        XCTAssertEqual(result.status, 0, "ffmpeg \(arguments): \(result.stderr)")
    }

    // MARK: a file replaced mid-run

    /// A writer renames a new file over the path of one being processed (the atomic-rename pattern): the file that
    /// was read keeps its events, and the new one is processed as the file it is and moved to `done/` — not moved
    /// there unread.
    func testFileRenamedOverOneBeingProcessedIsProcessedAsTheNewFile() throws {
        let old = try render("old", seed: 7301, clips: 1, seconds: 40, extra: ["--switch"])[0]
        let new = try render("new", seed: 7302, clips: 1, seconds: 6, extra: ["--switch"])[0]
        let config = try writeInboxConfig(settle: 1)
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        let daemon = try DaemonProcess(config: config, in: dir)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("inbox"))") }, daemon.stderr)
        let target = path("inbox/clip.mp4"), log = path("log/actions.jsonl")
        try FileManager.default.copyItem(atPath: old, toPath: target + ".part")
        XCTAssertEqual(rename(target + ".part", target), 0)
        XCTAssertTrue(pauseDaemonMidFile(daemon, log: log, media: target), daemon.stderr)
        try FileManager.default.copyItem(atPath: new, toPath: target + ".part")
        XCTAssertEqual(rename(target + ".part", target), 0)
        daemon.signal(SIGCONT)

        XCTAssertTrue(eventually(timeout: 120) {
            lifecycleLines(log).filter { $0["event"] as? String == "file_done" }.count == 2
                && ((try? FileManager.default.contentsOfDirectory(atPath: path("done"))) ?? []).count == 1
        }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("\(target): was replaced by another file while it was processed"),
                      daemon.stderr)
        let moved = try FileManager.default.contentsOfDirectory(atPath: path("done"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("done/\(moved[0])"))),
                       try Data(contentsOf: URL(fileURLWithPath: new)), "done/ holds the new file, processed")
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: path("inbox"))) ?? []), [])
        let lines = logLines(log).compactMap { $0 }
        let written = Set(segments(lines, media: target))
        XCTAssertTrue(Set(try referenceSegments(new)).isSubset(of: written), "the new file's events are all there")
        XCTAssertTrue(Set(try referenceSegments(old)).isSubset(of: written), "the old file (read to its end) too")
        XCTAssertFalse(daemon.stderr.contains("quarantined"), daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    // MARK: a writer that appends in bursts

    /// A writer that opens, appends, closes and comes back half a second later: each piece is taken after the
    /// short quiet time and fails to decode (MP4: no index yet) or decodes short (Matroska), but the file changes
    /// again within `settle`, so it is not quarantined; it is processed once it is still, and its events are written
    /// once each.
    func testBurstyWriterIsProcessedWholeAndNeverQuarantined() throws {
        let clips = try render("clips", seed: 7311, clips: 2, seconds: 6, extra: ["--switch"])
        let mkv = path("clips/b.mkv")
        try ffmpeg(["-i", clips[1], "-c", "copy", mkv])
        let config = try writeInboxConfig(settle: 3)
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        let daemon = try DaemonProcess(config: config, in: dir)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("inbox"))") }, daemon.stderr)
        for (source, name) in [(clips[0], "a.mp4"), (mkv, "b.mkv")] {
            let data = try Data(contentsOf: URL(fileURLWithPath: source))
            let target = path("inbox/\(name)")
            let pieces = 6, size = (data.count + pieces - 1) / pieces
            for start in stride(from: 0, to: data.count, by: size) {
                if !FileManager.default.fileExists(atPath: target) {
                    XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: nil))
                }
                let handle = try XCTUnwrap(FileHandle(forWritingAtPath: target))
                try handle.seekToEnd()
                try handle.write(contentsOf: data[start..<min(data.count, start + size)])
                try handle.close()
                usleep(600_000)  // longer than the 0.3 s quiet time after a close, shorter than `settle`
            }
        }
        let log = path("log/actions.jsonl")
        XCTAssertTrue(eventually(timeout: 120) {
            ((try? FileManager.default.contentsOfDirectory(atPath: path("done"))) ?? []).count == 2
                && lifecycleLines(log).filter { $0["event"] as? String == "file_done" }.count >= 2
        }, daemon.stderr)
        XCTAssertEqual(((try? FileManager.default.contentsOfDirectory(atPath: path("bad"))) ?? []), [],
                       "nothing quarantined\n\(daemon.stderr)")
        XCTAssertTrue(daemon.stderr.contains("could not be decoded, but was written to"), daemon.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("done/a.mp4"))),
                       try Data(contentsOf: URL(fileURLWithPath: clips[0])))
        let lines = logLines(log).compactMap { $0 }
        XCTAssertEqual(segments(lines, media: path("inbox/a.mp4")), try referenceSegments(clips[0]))
        // The Matroska pieces decode short and are taken again: each segment start is written once.
        let mkvStarts = segments(lines, media: path("inbox/b.mkv")).map { $0.split(separator: "-")[0] }
        XCTAssertEqual(mkvStarts.count, Set(mkvStarts).count, "no event twice: \(mkvStarts)")
        XCTAssertEqual(Set(mkvStarts), Set(try referenceSegments(mkv).map { $0.split(separator: "-")[0] }))
        let done = lifecycleLines(log).filter { $0["event"] as? String == "file_done" }
        XCTAssertEqual(done.last?["truncated"] as? Bool, false, "\(done)")
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    // MARK: truncation reported

    /// An MP4 with its index first cut at half, and a file cut in place while it is being processed, are done with
    /// the events of what could be decoded — and `file_done` says `truncated`, with why, and the log warns.
    func testTruncatedFilesAreReportedAsTruncated() throws {
        let clips = try render("clips", seed: 7321, clips: 2, seconds: 30, extra: ["--switch"])
        let faststart = path("clips/faststart.mp4")
        try ffmpeg(["-i", clips[0], "-c", "copy", "-movflags", "+faststart", faststart])
        let config = try writeInboxConfig(settle: 1)
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        let daemon = try DaemonProcess(config: config, in: dir)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("inbox"))") }, daemon.stderr)
        let log = path("log/actions.jsonl")
        func fileDone(_ media: String) -> [String: Any]? {
            lifecycleLines(log).first { $0["event"] as? String == "file_done" && $0["media"] as? String == media }
        }

        let bytes = try Data(contentsOf: URL(fileURLWithPath: faststart))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path("inbox/half.mp4.part")))
        XCTAssertEqual(rename(path("inbox/half.mp4.part"), path("inbox/half.mp4")), 0)
        XCTAssertTrue(eventually(timeout: 120) { fileDone(path("inbox/half.mp4")) != nil }, daemon.stderr)
        let half = try XCTUnwrap(fileDone(path("inbox/half.mp4")))
        XCTAssertEqual(half["truncated"] as? Bool, true, "\(half)")
        XCTAssertTrue((half["damage"] as? String)?.contains("packets") ?? false, "\(half)")
        XCTAssertGreaterThan(half["events"] as? Int ?? 0, 0, "the first half has events")
        XCTAssertTrue(daemon.stderr.contains("warning"), daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("\(path("inbox/half.mp4")): done"), daemon.stderr)

        // Cut in place while being read.
        let target = path("inbox/cut.mp4")
        try FileManager.default.copyItem(atPath: clips[1], toPath: target + ".part")
        XCTAssertEqual(rename(target + ".part", target), 0)
        XCTAssertTrue(pauseDaemonMidFile(daemon, log: log, media: target), daemon.stderr)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: target)[.size] as? Int)
        XCTAssertEqual(truncate(target, off_t(size / 3)), 0)
        daemon.signal(SIGCONT)
        XCTAssertTrue(eventually(timeout: 120) { fileDone(target) != nil }, daemon.stderr)
        let cut = try XCTUnwrap(fileDone(target))
        XCTAssertEqual(cut["truncated"] as? Bool, true, "\(cut)")
        XCTAssertNotNil(cut["damage"] as? String, "\(cut)")
        let warnings = daemon.stderr.split(separator: "\n")
            .filter { $0.contains("warning") && $0.contains("truncated") }
        XCTAssertEqual(warnings.count, 2, daemon.stderr)
        // A whole file says it is whole.
        try FileManager.default.copyItem(atPath: clips[0], toPath: path("inbox/whole.mp4.part"))
        XCTAssertEqual(rename(path("inbox/whole.mp4.part"), path("inbox/whole.mp4")), 0)
        XCTAssertTrue(eventually(timeout: 120) { fileDone(path("inbox/whole.mp4")) != nil }, daemon.stderr)
        XCTAssertEqual(fileDone(path("inbox/whole.mp4"))?["truncated"] as? Bool, false)
        XCTAssertEqual(fileDone(path("inbox/whole.mp4"))?["skipped_packets"] as? Int, 0)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    // MARK: clear errors, skipped entries, names

    /// A still image named .mp4, a header stating 30000×30000, a corrupt file whose name is too long for a
    /// `.error.json` beside it, a good file with a newline in its name, a quarantine path that turns into a file, and a
    /// folder and a symbolic link loop in the inbox: each is handled and said in one line, what / which file / why.
    func testInputsThatAreNotVideosAndAwkwardNamesGetClearLines() throws {
        let clip = try render("clips", seed: 7331, clips: 1, seconds: 3)[0]
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path("second"), withIntermediateDirectories: true)
        let config = try writeConfig(service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
                settle: 1
                done: move:\(path("done"))
                quarantine: \(path("bad"))
                lifecycle: true
              - id: second
                watch: \(path("second"))
                settle: 1
                quarantine: \(path("quarantine-file"))
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        // Already there at the start: a folder and a link to itself (skipped, logged once at debug).
        try FileManager.default.createDirectory(atPath: path("inbox/sub"), withIntermediateDirectories: true)
        XCTAssertEqual(symlink("loop.mp4", path("inbox/loop.mp4")), 0)
        let daemon = try DaemonProcess(config: config, in: dir, arguments: ["--log-level", "debug"])
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("second"))") }, daemon.stderr)
        // The quarantine path becomes a file after the start (at the start, `run` refuses such a config).
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: path("quarantine-file")))

        let png = try ActiondBinary.run(["frames", clip, "--out", path("frames"), "--fps", "1", "--quiet"])
        XCTAssertEqual(png.status, 0, png.stderr)
        // The picture also claims to be from an hour ahead (a skewed clock): it is still quarantined after `settle`.
        try FileManager.default.copyItem(atPath: path("frames/frame-000000.png"), toPath: path("inbox/photo.part"))
        let ahead = Int(Date().timeIntervalSince1970) + 3600
        var times = [timeval(tv_sec: ahead, tv_usec: 0), timeval(tv_sec: ahead, tv_usec: 0)]
        XCTAssertEqual(utimes(path("inbox/photo.part"), &times), 0)
        XCTAssertEqual(rename(path("inbox/photo.part"), path("inbox/photo.mp4")), 0)
        try (Data("YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".utf8) + Data(repeating: 0x80, count: 4096))
            .write(to: URL(fileURLWithPath: path("inbox/huge.mp4")))
        let longName = String(repeating: "long-", count: 49) + "x.mp4"  // 250 bytes
        let noise = { (step: Int) in Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* step) }) }
        try noise(7).write(to: URL(fileURLWithPath: path("inbox/\(longName)")))
        let newline = path("inbox/new\nline.mp4")
        try FileManager.default.copyItem(atPath: clip, toPath: path("inbox/nl.part"))
        XCTAssertEqual(rename(path("inbox/nl.part"), newline), 0)
        try noise(13).write(to: URL(fileURLWithPath: path("second/noise.mp4")))

        let log = path("log/actions.jsonl")
        XCTAssertTrue(eventually(timeout: 120) {
            let sidecars = ((try? FileManager.default.contentsOfDirectory(atPath: path("bad"))) ?? [])
                .filter { $0.hasSuffix(".error.json") }
            return sidecars.count == 3 && daemon.stderr.contains("line.mp4: done")
                && daemon.stderr.contains("second/noise.mp4: failed")
        }, daemon.stderr)
        let stderr = daemon.stderr
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

        // Still image and huge header: quarantined with a reason that says what the file is.
        var reasons: [String: String] = [:]
        for line in lifecycleLines(log) where line["event"] as? String == "quarantine" {
            reasons[((line["media"] as? String ?? "") as NSString).lastPathComponent] = line["reason"] as? String
        }
        XCTAssertTrue(reasons["photo.mp4"]?.contains("it is a still image (PNG), not a video") ?? false, "\(reasons)")
        XCTAssertTrue(reasons["huge.mp4"]?.contains("30000×30000") ?? false, "\(reasons)")
        XCTAssertFalse(reasons["huge.mp4"]?.contains("busy") ?? true, "\(reasons)")

        // The long name: moved whole, its sidecar shortened, the full name inside it.
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("bad/\(longName)")))
        let sidecar = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: path("bad"))
            .first { $0.hasPrefix("long-") && $0.hasSuffix(".error.json") })
        XCTAssertLessThanOrEqual(sidecar.utf8.count, 255)
        let fields = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: path("bad/\(sidecar)")))) as? [String: Any])
        XCTAssertEqual(fields["name"] as? String, longName)
        XCTAssertEqual(fields["path"] as? String, path("inbox/\(longName)"))

        // The newline is escaped: the daemon's own line stays one line, and no line starts with the name's tail.
        XCTAssertTrue(lines.contains { $0.contains("inbox/new\\nline.mp4: done") }, stderr)
        XCTAssertFalse(lines.contains { $0.hasPrefix("line.mp4") }, stderr)
        XCTAssertEqual(segments(logLines(log).compactMap { $0 }, media: newline), try referenceSegments(clip))

        // The quarantine path is a file: one line that says so, the file stays, marked failed.
        XCTAssertTrue(lines.contains {
            $0.contains("second/noise.mp4: cannot quarantine into \(path("quarantine-file")): is a file, not a folder; "
                        + "the file stays and is marked failed")
        }, stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("second/noise.mp4")))
        XCTAssertFalse(stderr.contains("NSCocoaErrorDomain"), stderr)
        XCTAssertFalse(stderr.contains("Error Domain="), stderr)

        // Skipped entries: said once each, at debug.
        let skippedSub = lines.filter {
            $0.contains("skipped \(path("inbox/sub")): a folder (the watch is not recursive)")
        }
        XCTAssertEqual(skippedSub.count, 1, stderr)
        XCTAssertTrue(skippedSub[0].contains("debug"), skippedSub[0])
        XCTAssertEqual(lines.filter { $0.contains("skipped \(path("inbox/loop.mp4")): a symbolic link") }.count, 1,
                       stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, stderr)
    }

    // MARK: lifecycle

    /// A stream whose server never answers is reported down after its first failed attempt, not only after a
    /// connection it never had.
    func testStreamThatNeverConnectsIsReportedDown() throws {
        let port = freePort()
        let config = try writeConfig(service: """
            sources:
              - id: cam
                url: tcp://127.0.0.1:\(port)
                stall: 2
                reconnect: { initial: 0.5, max: 1 }
                lifecycle: true
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        let daemon = try DaemonProcess(config: config, in: dir)
        let log = path("log/actions.jsonl")
        XCTAssertTrue(eventually(timeout: 60) {
            lifecycleLines(log).contains { $0["event"] as? String == "reconnect" }
        }, daemon.stderr)
        let events = lifecycleLines(log).map { $0["event"] as? String ?? "" }
        XCTAssertEqual(events.first, "source_down", "\(events)")
        XCTAssertEqual(events.filter { $0 == "source_down" }.count, 1, "down once, not at every attempt: \(events)")
        XCTAssertTrue((lifecycleLines(log).first?["reason"] as? String)?.isEmpty == false)
        XCTAssertTrue(daemon.stderr.contains("source cam: cannot connect"), daemon.stderr)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    /// Lifecycle events the sink refuses while the disk is full (the daemon's file-size limit lowered to the log's
    /// size: write(2) fails with EFBIG, as with ENOSPC) are written once it has room again, in order.
    func testLifecycleEventsMetByAFullDiskAreWrittenLater() throws {
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path("log"), withIntermediateDirectories: true)
        // The limit is per process: the log starts larger than anything else the daemon writes (its stderr), so
        // only the log meets the limit.
        let line = "{\"v\":1,\"ts\":\"2026-11-21T10:00:00.000Z\",\"source\":\"earlier\",\"event\":\"source_up\"}\n"
        let earlier = String(repeating: line, count: 20_000)
        try earlier.write(toFile: path("log/actions.jsonl"), atomically: false, encoding: .utf8)
        let config = try writeConfig(service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
                lifecycle: true
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        let daemon = try DaemonProcess(config: config, in: dir)
        let log = path("log/actions.jsonl")
        func events() -> [String] {
            lifecycleLines(log).filter { $0["source"] as? String == "inbox" }.map { $0["event"] as? String ?? "" }
        }
        XCTAssertTrue(eventually(timeout: 30) { events() == ["source_up"] }, daemon.stderr)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        let pid = daemon.process.processIdentifier
        XCTAssertEqual(try setFileSizeLimit(of: pid, to: "\(size):unlimited"), 0)
        // The watched folder goes away and comes back: source_down, then source_up, both refused at first.
        try FileManager.default.removeItem(atPath: path("inbox"))
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("cannot write lifecycle event source_down") },
                      daemon.stderr)
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("cannot write lifecycle event source_up") },
                      daemon.stderr)
        XCTAssertEqual(events(), ["source_up"], "nothing written while the disk is full")
        XCTAssertEqual(try setFileSizeLimit(of: pid, to: "unlimited:unlimited"), 0)
        XCTAssertTrue(eventually(timeout: 30) { events().count == 3 }, daemon.stderr)
        XCTAssertEqual(events(), ["source_up", "source_down", "source_up"])
        XCTAssertFalse(logLines(log).contains { $0 == nil }, "no torn line")
        XCTAssertTrue(daemon.isRunning)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    /// READY=1 is sent once the folder watch is in place, not after the files already in the folder (among them,
    /// after a crash, the redo of an interrupted file) have been processed: the READY datagram's status says the
    /// source is up and no file is done yet, and the file is processed after it.
    func testReadyIsSentOnceTheWatchIsInPlaceBeforeTheFilesAlreadyThere() throws {
        let clip = try render("clips", seed: 7341, clips: 1, seconds: 20)[0]
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: clip, toPath: path("inbox/waiting.mp4"))
        let old = Date().addingTimeInterval(-60).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(old), tv_usec: 0), timeval(tv_sec: Int(old), tv_usec: 0)]
        XCTAssertEqual(utimes(path("inbox/waiting.mp4"), &times), 0)  // settled long ago: taken by the start-up scan
        let socketPath = "/tmp/actiond-ready-\(getpid()).sock"  // short: a socket path holds at most 107 bytes
        unlink(socketPath)
        let listener = try NotifyListener(path: socketPath)
        let config = try writeConfig(service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
                lifecycle: true
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        let daemon = try DaemonProcess(config: config, in: dir, environment: ["NOTIFY_SOCKET": socketPath])
        XCTAssertTrue(eventually(timeout: 60) {
            listener.receive()
            return listener.messages.contains { $0.contains("READY=1") }
        }, "\(listener.messages)\n\(daemon.stderr)")
        let ready = try XCTUnwrap(listener.messages.first { $0.contains("READY=1") })
        XCTAssertTrue(ready.contains("STATUS=sources: inbox up; files done 0"), ready)
        let log = path("log/actions.jsonl")
        XCTAssertTrue(eventually(timeout: 120) {
            lifecycleLines(log).contains { $0["event"] as? String == "file_done" }
        }, daemon.stderr)
        XCTAssertEqual(lifecycleLines(log).first?["event"] as? String, "source_up")
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }
}
