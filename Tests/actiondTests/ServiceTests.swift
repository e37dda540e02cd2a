// `actiond run` as the real process a service manager runs: rendered clips dropped into a watched folder
// (slowly written, renamed in, corrupt), SIGKILL mid-file and restart, a live stream served by ffmpeg over TCP
// that dies and comes back, rotation, SIGHUP with good and bad configs, SIGTERM, sd_notify on a real socket.
import Foundation
import Glibc
import TestSupport
import XCTest

/// A running `actiond run`, its stderr captured to a file.
final class DaemonProcess {
    let process = Process()
    let stderrPath: String

    init(config: String, in directory: URL, environment: [String: String] = [:], name: String = "daemon",
         arguments: [String] = []) throws {
        stderrPath = directory.appendingPathComponent("\(name).stderr").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: ActiondBinary.path)
        process.arguments = ["run", "--config", config, "--threads", "1"] + arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit and returns the status (nil if it did not exit within `timeout`).
    func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        return process.isRunning ? nil : process.terminationStatus
    }
}

/// Every line of a JSON Lines log and its rotated files (oldest first), each parsed; a line that does not parse
/// is returned as nil so tests can assert there are none (no torn lines).
func logLines(_ path: String) -> [[String: Any]?] {
    var files: [String] = []
    var n = 1
    while FileManager.default.fileExists(atPath: "\(path).\(n)") {
        files.insert("\(path).\(n)", at: 0)
        n += 1
    }
    files.append(path)
    return files.flatMap { file -> [[String: Any]?] in
        guard let data = FileManager.default.contents(atPath: file) else { return [] }
        return data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
    }
}

/// An action event reduced to what must be identical between runs.
struct EventKey: Hashable, CustomStringConvertible {
    var media: String
    var label: String
    var start: Double
    var end: Double
    init?(_ line: [String: Any]) {
        guard line["event"] == nil, let media = line["media"] as? String, let label = line["label"] as? String,
              let start = line["start"] as? Double, let end = line["end"] as? Double else { return nil }
        self.media = (media as NSString).lastPathComponent
        self.label = label
        self.start = start
        self.end = end
    }
    var description: String { "\(media) \(label) \(start)–\(end)" }
}

final class ServiceTests: XCTestCase {
    var dir: URL!
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-svc-\(getpid())-\(name.filter(\.isLetter))")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: ActiondBinary.path), "build actiond first")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ relative: String) -> String { dir.appendingPathComponent(relative).path }

    /// A config running `pipeline` (a shipped pipelines/*.yaml, its stages and models) with these sources/sinks.
    func writeConfig(_ name: String = "actiond.yaml", pipeline: String = "default.yaml", service: String) throws -> String {
        let shipped = try String(contentsOf: root.appendingPathComponent("pipelines/\(pipeline)"), encoding: .utf8)
        // Model paths in the shipped files are relative to pipelines/: make them absolute for a config elsewhere.
        let models = root.appendingPathComponent("models").path
        let body = shipped.replacingOccurrences(of: "../models", with: models)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("version:") && !$0.hasPrefix("threads:") }
            .joined(separator: "\n")
        let text = "version: 1\njournal: \(path("state/journal.sqlite"))\n" + service + "\n" + body
        let config = path(name)
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// The usual watched-folder service: `inbox/` taken after `settle`, `done/` and `bad/` (quarantine) beside it,
    /// lifecycle events on, events to `log/actions.jsonl` with the jsonl options `sinkOptions` adds.
    func writeInboxConfig(settle: Double, sinkOptions: String = "") throws -> String {
        try writeConfig(service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
                settle: \(settle)
                done: move:\(path("done"))
                quarantine: \(path("bad"))
                lifecycle: true
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl"))\(sinkOptions) }
            """)
    }

    func render(_ out: String, seed: Int, clips: Int, seconds: Double, extra: [String] = []) throws -> [String] {
        let result = try ActiondBinary.run(["synth", "--out", path(out), "--seed", "\(seed)", "--clips", "\(clips)",
                                            "--seconds", "\(seconds)", "--size", "160x120"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return (0..<clips).map { path(out) + String(format: "/s\(seed)-c%05d.mp4", $0) }
    }

    /// What `actiond classify --json` finds in a file with the same pipeline: the events a daemon must write.
    func reference(_ file: String, pipeline: String = "default.yaml") throws -> [EventKey] {
        let result = try ActiondBinary.run(["classify", file, "--json", "--threads", "1", "--pipeline",
                                            root.appendingPathComponent("pipelines/\(pipeline)").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]).flatMap {
                var line = $0
                line["media"] = file
                return EventKey(line)
            }
        }
    }

    // MARK: watched folder

    /// 20 clips dropped into a watched folder — written slowly, renamed in, copied, two corrupt — with a tiny
    /// rotation size: every good clip's events appear exactly once across the rotated files (and equal what
    /// `classify` finds), the corrupt ones are quarantined with a reason, the daemon keeps running, and SIGTERM
    /// exits 0.
    func testWatchedFolderTakesEveryFileOnceAndQuarantinesCorruptOnes() throws {
        let clips = try render("clips", seed: 6101, clips: 18, seconds: 2.5)
        let config = try writeInboxConfig(settle: 1, sinkOptions: ", rotate: { size: 2KB, keep: 100 }")
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        // Two files are already there before the daemon starts (the start-up scan must take them).
        try FileManager.default.copyItem(atPath: clips[0], toPath: path("inbox/c00.mp4"))
        try FileManager.default.copyItem(atPath: clips[1], toPath: path("inbox/c01.mp4"))
        let daemon = try DaemonProcess(config: config, in: dir)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("inbox"))") }, daemon.stderr)
        for (i, clip) in clips.enumerated().dropFirst(2) {
            let target = path(String(format: "inbox/c%02d.mp4", i))
            let data = try Data(contentsOf: URL(fileURLWithPath: clip))
            switch i % 3 {
            case 0:  // written slowly, in pieces, with pauses shorter than the settle time
                // Created empty and closed first, then reopened for writing: a pattern some writers use.
                XCTAssertTrue(FileManager.default.createFile(atPath: target, contents: nil))
                let handle = try XCTUnwrap(FileHandle(forWritingAtPath: target))
                for start in stride(from: 0, to: data.count, by: max(1, data.count / 4)) {
                    try handle.write(contentsOf: data[start..<min(data.count, start + max(1, data.count / 4))])
                    usleep(150_000)
                }
                try handle.close()
            case 1:  // written under a temporary name, then renamed in
                try data.write(to: URL(fileURLWithPath: target + ".part"))
                XCTAssertEqual(rename(target + ".part", target), 0)
            default:
                try data.write(to: URL(fileURLWithPath: target))
            }
        }
        try Data((0..<40_000).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: path("inbox/noise.mp4")))
        let good = try Data(contentsOf: URL(fileURLWithPath: clips[2]))
        try good.prefix(good.count / 3).write(to: URL(fileURLWithPath: path("inbox/cut.mp4")))

        // Settled: the inbox is empty and both quarantined files are fully handled (a file leaves the inbox before
        // its sidecar is written and the quarantine is logged).
        let settled = eventually(timeout: 240) {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: path("inbox"))) ?? []
            let sidecars = ((try? FileManager.default.contentsOfDirectory(atPath: path("bad"))) ?? [])
                .filter { $0.hasSuffix(".error.json") }
            return left.isEmpty && sidecars.count == 2
                && daemon.stderr.components(separatedBy: "quarantined to").count - 1 >= 2
        }
        XCTAssertTrue(settled, "files left in the inbox: \((try? FileManager.default.contentsOfDirectory(atPath: path("inbox"))) ?? [])\n\(daemon.stderr)")
        XCTAssertTrue(daemon.isRunning, "the daemon must keep running after corrupt files")

        // Quarantine: both corrupt files with a sidecar saying why.
        let bad = try FileManager.default.contentsOfDirectory(atPath: path("bad")).sorted()
        XCTAssertEqual(bad, ["cut.mp4", "cut.mp4.error.json", "noise.mp4", "noise.mp4.error.json"])
        for name in ["cut.mp4", "noise.mp4"] {
            let sidecar = try XCTUnwrap(try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: path("bad/\(name).error.json")))) as? [String: Any])
            XCTAssertEqual(sidecar["path"] as? String, path("inbox/\(name)"))
            let reason = try XCTUnwrap(sidecar["reason"] as? String)
            XCTAssertFalse(reason.isEmpty)
            XCTAssertTrue(daemon.stderr.contains("inbox/\(name)"), "the log names the quarantined file")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("done")).count, 18)

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)

        let lines = logLines(path("log/actions.jsonl"))
        XCTAssertFalse(lines.contains { $0 == nil }, "every line parses (no torn lines)")
        var rotated = 0
        while FileManager.default.fileExists(atPath: path("log/actions.jsonl.\(rotated + 1)")) { rotated += 1 }
        XCTAssertGreaterThan(rotated, 1, "a 2 KB rotation size must rotate")
        for n in 1...rotated {
            let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path("log/actions.jsonl.\(n)"))[.size] as? Int)
            XCTAssertLessThanOrEqual(size, 2048)
        }
        let events = lines.compactMap { $0.flatMap(EventKey.init) }
        XCTAssertEqual(events.count, Set(events).count, "no event twice")
        var expected: [EventKey] = []
        for (i, clip) in clips.enumerated() {
            expected += try reference(clip).map {
                var key = $0
                key.media = String(format: "c%02d.mp4", i)
                return key
            }
        }
        XCTAssertEqual(Set(events), Set(expected))
        XCTAssertGreaterThanOrEqual(expected.count, 18)
        let lifecycle = lines.compactMap { $0 }.filter { $0["event"] != nil }
        XCTAssertEqual(lifecycle.filter { $0["event"] as? String == "quarantine" }.count, 2)
        XCTAssertEqual(lifecycle.filter { $0["event"] as? String == "file_done" }.count, 18)
        for line in lines.compactMap({ $0 }) where line["event"] == nil {
            XCTAssertEqual(line["v"] as? Int, 1)
            XCTAssertEqual(line["source"] as? String, "inbox")
            XCTAssertEqual(line["model"] as? String, "actions-r2plus1d")
            XCTAssertEqual((line["model_sha256"] as? String)?.count, 64)
        }
    }

    /// The shipped pipelines/service.yaml, with its /var paths moved into a temp folder (as `make install`
    /// would place them) and its metrics port moved to a free one: runs, takes a clip, serves /metrics.
    func testShippedServiceConfigRuns() throws {
        let clip = try render("clips", seed: 6505, clips: 1, seconds: 2.5)[0]
        let port = freePort()
        let text = try String(contentsOf: root.appendingPathComponent("pipelines/service.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "/var/lib/actiond", with: path("state"))
            .replacingOccurrences(of: "/var/log/actiond", with: path("log"))
            .replacingOccurrences(of: "127.0.0.1:9464", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "../models", with: root.appendingPathComponent("models").path)
        try text.write(toFile: path("service.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: path("state/inbox"), withIntermediateDirectories: true)
        let daemon = try DaemonProcess(config: path("service.yaml"), in: dir,
                                       environment: ["STATE_DIRECTORY": path("state")])
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching") }, daemon.stderr)
        try FileManager.default.copyItem(atPath: clip, toPath: path("state/inbox/clip.mp4"))
        XCTAssertTrue(eventually(timeout: 60) { FileManager.default.fileExists(atPath: path("state/done/clip.mp4")) },
                      daemon.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("state/journal.sqlite")), "journal in STATE_DIRECTORY")
        let events = logLines(path("log/actions.jsonl")).compactMap { $0.flatMap(EventKey.init) }
        XCTAssertEqual(Set(events), Set(try reference(clip).map { key -> EventKey in
            var key = key
            key.media = "clip.mp4"
            return key
        }))
        let metrics = try XCTUnwrap(httpGet(port: port, "/metrics"))
        XCTAssertEqual(metric(metrics.1, "actiond_files_processed_total{source=\"inbox\"}"), 1, metrics.1)
        daemon.signal(SIGINT)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    // MARK: crash safety

    /// SIGKILL in the middle of a long file, restart: the file is finished, no event is written twice, none is
    /// missing, no line is torn — the log equals an uninterrupted run's.
    func testSIGKILLMidFileThenRestartLosesAndDuplicatesNothing() throws {
        try interruptMidFileAndRestart(with: SIGKILL)
    }

    /// The same with SIGTERM: exit 0 mid-file, and the segments the drain cut short are written whole by the redo.
    func testSIGTERMMidFileThenRestartLosesAndDuplicatesNothing() throws {
        try interruptMidFileAndRestart(with: SIGTERM)
    }

    func interruptMidFileAndRestart(with signal: Int32) throws {
        let clip = try render("long", seed: 6202, clips: 1, seconds: 90, extra: ["--switch"])[0]
        let expected = try reference(clip, pipeline: "two-stream.yaml")
        XCTAssertGreaterThanOrEqual(expected.count, 6, "a 90 s clip of switching actions has many segments")
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: clip, toPath: path("inbox/long.mp4"))
        let config = try writeConfig(pipeline: "two-stream.yaml", service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
                settle: 0.2
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")), flush: every-event }
            """)
        let first = try DaemonProcess(config: config, in: dir, name: "first")
        XCTAssertTrue(eventually(timeout: 120) { logLines(path("log/actions.jsonl")).count >= 2 }, first.stderr)
        first.signal(signal)
        let status = first.waitForExit()
        if signal == SIGTERM { XCTAssertEqual(status, 0, first.stderr) }
        let before = logLines(path("log/actions.jsonl")).count
        XCTAssertLessThan(before, expected.count, "the kill must land mid-file for this test to mean anything")

        let second = try DaemonProcess(config: config, in: dir, name: "second")
        XCTAssertTrue(eventually(timeout: 240) { second.stderr.contains("long.mp4: done") }, second.stderr)
        XCTAssertTrue(second.stderr.contains("resuming an interrupted file"), second.stderr)
        second.signal(SIGTERM)
        XCTAssertEqual(second.waitForExit(), 0, second.stderr)
        let lines = logLines(path("log/actions.jsonl"))
        XCTAssertFalse(lines.contains { $0 == nil }, "no torn line")
        let events = lines.compactMap { $0.flatMap(EventKey.init) }
        XCTAssertEqual(events.count, Set(events).count, "no duplicate: \(events)")
        let renamed = expected.map { key -> EventKey in
            var key = key
            key.media = "long.mp4"
            return key
        }
        XCTAssertEqual(Set(events), Set(renamed))

        // A third start finds the file done in the journal (it says so at debug level), redoes nothing and writes
        // nothing.
        let third = try DaemonProcess(config: config, in: dir, name: "third", arguments: ["--log-level", "debug"])
        XCTAssertTrue(eventually(timeout: 60) { third.stderr.contains("long.mp4: already done (journal), skipped") },
                      third.stderr)
        XCTAssertFalse(third.stderr.contains("resuming"), third.stderr)
        third.signal(SIGTERM)
        XCTAssertEqual(third.waitForExit(), 0, third.stderr)
        XCTAssertEqual(logLines(path("log/actions.jsonl")).count, lines.count)
    }
}

/// A unix datagram socket bound at `path`, as systemd's NOTIFY_SOCKET: collects what the daemon sends.
final class NotifyListener {
    let path: String
    private let fd: Int32
    private(set) var messages: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.utf8CString.withUnsafeBytes {
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count)))
            }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads every datagram waiting (returns after 0.2 s without one).
    func receive() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return }
            messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
