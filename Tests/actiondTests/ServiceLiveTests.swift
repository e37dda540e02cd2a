// `actiond run` with a live stream (ffmpeg serving MPEG-TS over TCP, killed and restarted), /metrics and
// /healthz over a real socket, SIGHUP with a bad and a good config, and sd_notify on a real datagram socket.
import Foundation
import Glibc
import TestSupport
import XCTest

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test on one machine).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// GET http://127.0.0.1:port/path with a raw socket: (status, body), nil if nothing answers (or within 10 s of
/// silence: a server that accepts and never answers must not hang the run).
func httpGet(port: Int, _ path: String) -> (Int, String)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(fd, $0, strlen($0), 0) }
    var response = Data()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        response.append(contentsOf: buffer[0..<n])
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusText = text.split(separator: " ").dropFirst().first, let status = Int(statusText) else { return nil }
    let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
    return (status, body)
}

/// ffmpeg serving `clip` in a loop, in real time, as MPEG-TS to the first client of a loopback TCP port (a live
/// camera that a test can kill and bring back).
func serveLooping(_ clip: String, port: Int) throws -> Process {
    let ffmpeg = Process()
    ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
    ffmpeg.arguments = ["-loglevel", "error", "-re", "-stream_loop", "-1", "-i", clip, "-c", "copy",
                        "-f", "mpegts", "tcp://127.0.0.1:\(port)?listen=1"]
    ffmpeg.standardOutput = FileHandle.nullDevice
    ffmpeg.standardError = FileHandle.nullDevice
    try ffmpeg.run()
    return ffmpeg
}

/// The value of one Prometheus series in /metrics text (`name{labels} value`).
func metric(_ text: String, _ series: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
}

extension ServiceTests {
    /// ffmpeg serves a looping clip as MPEG-TS on a TCP port; actiond connects, emits events, loses the stream
    /// when ffmpeg is killed, reconnects with backoff when it comes back, and resumes emitting. The outage and the
    /// reconnects are counted in /metrics; /healthz reports the source down while it is.
    func testLiveStreamReconnectsAfterAnOutageAndResumesEmitting() throws {
        let clip = try render("live", seed: 6303, clips: 1, seconds: 6, extra: ["--actions", "walk,run,wave,jump",
                                                                               "--switch"])[0]
        let streamPort = freePort(), metricsPort = freePort()
        let config = try writeConfig(service: """
            metrics: { listen: 127.0.0.1:\(metricsPort) }
            sources:
              - id: cam
                url: tcp://127.0.0.1:\(streamPort)
                stall: 3
                reconnect: { initial: 0.2, max: 1 }
                lifecycle: true
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        func serve() throws -> Process { try serveLooping(clip, port: streamPort) }
        var server = try serve()
        defer { if server.isRunning { server.terminate() } }
        let daemon = try DaemonProcess(config: config, in: dir)
        func actions() -> [[String: Any]] { logLines(path("log/actions.jsonl")).compactMap { $0 }.filter { $0["event"] == nil } }
        func lifecycle(_ kind: String) -> [[String: Any]] {
            logLines(path("log/actions.jsonl")).compactMap { $0 }.filter { $0["event"] as? String == kind }
        }
        XCTAssertTrue(eventually(timeout: 60) { !lifecycle("source_up").isEmpty }, daemon.stderr)
        XCTAssertTrue(eventually(timeout: 60) { actions().count >= 2 }, "events from the live stream\n\(daemon.stderr)")
        XCTAssertEqual(httpGet(port: metricsPort, "/healthz")?.0, 200)

        // (A first attempt made before ffmpeg listened is already reported down: count from here.)
        let reconnectsBefore = lifecycle("reconnect").count, downsBefore = lifecycle("source_down").count
        server.terminate()
        server.waitUntilExit()
        XCTAssertTrue(eventually(timeout: 30) { lifecycle("source_down").count > downsBefore }, daemon.stderr)
        XCTAssertTrue(eventually(timeout: 30) { httpGet(port: metricsPort, "/healthz")?.0 == 503 }, "healthz while down")
        // An outage of a few reconnect attempts (counted, not timed).
        XCTAssertTrue(eventually(timeout: 30) { lifecycle("reconnect").count >= reconnectsBefore + 2 }, daemon.stderr)
        let earlier = actions()
        let before = earlier.count
        let lastStartBefore = try XCTUnwrap(earlier.compactMap { $0["start"] as? Double }.max())
        server = try serve()
        XCTAssertTrue(eventually(timeout: 60) { lifecycle("source_up").count >= 2 }, daemon.stderr)
        XCTAssertTrue(eventually(timeout: 60) { actions().count >= before + 2 }, "events after the reconnect\n\(daemon.stderr)")
        let up = try XCTUnwrap(lifecycle("source_up").last)
        let outage = try XCTUnwrap(up["outage"] as? Double, "the source_up after an outage says how long it was")
        XCTAssertGreaterThan(outage, 0)
        XCTAssertTrue(daemon.isRunning)

        let (status, text) = try XCTUnwrap(httpGet(port: metricsPort, "/metrics"))
        XCTAssertEqual(status, 200)
        XCTAssertGreaterThanOrEqual(metric(text, "actiond_reconnects_total{source=\"cam\"}") ?? 0, 1, text)
        XCTAssertGreaterThan(metric(text, "actiond_frames_decoded_total{source=\"cam\"}") ?? 0, 30, text)
        XCTAssertGreaterThan(metric(text, "actiond_clips_classified_total{source=\"cam\"}") ?? 0, 2, text)
        XCTAssertEqual(metric(text, "actiond_source_up{source=\"cam\"}"), 1, text)
        // The pipeline was compiled once at start: the reconnect built a new graph over the same compiled model.
        XCTAssertEqual(compilationSeries(text).map(\.value), [1], text)
        XCTAssertTrue(text.contains("actiond_stage_latency_seconds_bucket{le=\"+Inf\",stage=\"classify\"}")
                      || text.contains("actiond_stage_latency_seconds_bucket{stage=\"classify\",le=\"+Inf\"}"), text)
        // Live events carry source time (seconds since the source started), so they increase across reconnects.
        let all = actions()
        let starts = all.compactMap { $0["start"] as? Double }
        XCTAssertEqual(starts.count, all.count)
        XCTAssertTrue(starts[before...].allSatisfy { $0 > lastStartBefore },
                      "after the reconnect: \(starts[before...]), before: up to \(lastStartBefore)")
        XCTAssertTrue(all.allSatisfy { $0["media"] as? String == "tcp://127.0.0.1:\(streamPort)" })

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    /// A live stream faster than the pipeline (30 fps in, sampled at 15 fps and scaled up to 1280×960 into
    /// Farneback flow and a two-stream classifier on one thread: a few frames per second at best): the decoder keeps decoding — no stall, no reconnect — and the frames the pipeline cannot
    /// take are dropped and counted.
    func testSlowPipelineDropsLiveFramesInsteadOfBlockingTheDecoder() throws {
        let clip = try render("fast", seed: 6606, clips: 1, seconds: 4, extra: ["--size", "640x480", "--fps", "30"])[0]
        let streamPort = freePort(), metricsPort = freePort()
        // The default two-stream card names the DIS preset its flow net was trained on, and `check` holds the flow
        // stage to it; this test wants slow Farneback flow, so it runs a copy of the card without `preset`.
        let models = path("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        for file in ["actions-two-stream-rgb.onnx", "actions-two-stream-flow.onnx", "actions-two-stream-labels.txt"] {
            try FileManager.default.copyItem(atPath: root.appendingPathComponent("models/default/\(file)").path,
                                             toPath: "\(models)/\(file)")
        }
        let card = try String(contentsOfFile: root.appendingPathComponent("models/default/actions-two-stream.yaml")
                                .path, encoding: .utf8)
        try card.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("  preset:") }
            .joined(separator: "\n")
            .write(toFile: "\(models)/actions-two-stream.yaml", atomically: true, encoding: .utf8)
        let config = path("slow.yaml")
        try """
            version: 1
            journal: \(path("state/journal.sqlite"))
            metrics: { listen: 127.0.0.1:\(metricsPort) }
            sources:
              - id: cam
                url: tcp://127.0.0.1:\(streamPort)
                stall: 2
                queue: 4
            models:
              actions: \(models)/actions-two-stream.yaml
            pipeline:
              - decode: { fps: 15, size: 1280x960, resize: letterbox }
              - flow: { method: farneback }
              - classify: { model: actions, clip: 16, stride: 8, partial: drop }
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let ffmpeg = try serveLooping(clip, port: streamPort)
        defer { if ffmpeg.isRunning { ffmpeg.terminate() } }
        let daemon = try DaemonProcess(config: config, in: dir)
        var text = ""
        XCTAssertTrue(eventually(timeout: 60) {
            text = httpGet(port: metricsPort, "/metrics")?.1 ?? ""
            return (metric(text, "actiond_frames_decoded_total{source=\"cam\"}") ?? 0) >= 90
        }, "\(text)\n\(daemon.stderr)")
        // (A connection attempt made before ffmpeg listened may have been retried: count from here on.)
        let reconnects = metric(text, "actiond_reconnects_total{source=\"cam\"}") ?? 0
        let decoded = metric(text, "actiond_frames_decoded_total{source=\"cam\"}") ?? 0
        let dropped = metric(text, "actiond_frames_dropped_total{source=\"cam\"}") ?? 0
        XCTAssertTrue(eventually(timeout: 60) {
            text = httpGet(port: metricsPort, "/metrics")?.1 ?? ""
            return (metric(text, "actiond_frames_dropped_total{source=\"cam\"}") ?? 0) >= dropped + 30
                && (metric(text, "actiond_frames_decoded_total{source=\"cam\"}") ?? 0) >= decoded + 60
        }, "a pipeline this slow must drop live frames while the decoder goes on\n\(text)")
        // The decoder kept going while the pipeline lagged, and never stalled into a reconnect (a decoder blocked
        // by the pipeline for `stall: 2` s would have been reconnected).
        XCTAssertEqual(metric(text, "actiond_reconnects_total{source=\"cam\"}") ?? 0, reconnects,
                       "the decoder never stalled: \(text)")
        XCTAssertEqual(metric(text, "actiond_source_up{source=\"cam\"}"), 1)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    /// SIGHUP with a config that fails validation changes nothing (logged, still running); SIGHUP with a good one
    /// adds a source and keeps the unchanged one running; SIGTERM exits 0 and flushes.
    func testSIGHUPRejectsABadConfigAndAppliesAGoodOne() throws {
        let clips = try render("clips", seed: 6404, clips: 2, seconds: 2.5)
        for folder in ["a", "b"] { try FileManager.default.createDirectory(atPath: path(folder), withIntermediateDirectories: true) }
        let sourceA = """
              - id: a
                watch: \(path("a"))
                settle: 0.2
            """
        let sinks = "sinks:\n  - jsonl: { path: \(path("log/actions.jsonl")) }\n"
        let config = try writeConfig(service: "sources:\n" + sourceA + "\n" + sinks)
        let daemon = try DaemonProcess(config: config, in: dir)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("watching \(path("a"))") }, daemon.stderr)

        let good = try String(contentsOfFile: config, encoding: .utf8)
        try good.replacingOccurrences(of: "settle: 0.2", with: "settle: -3").write(toFile: config, atomically: true,
                                                                                    encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("the new config is rejected") }, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("`settle` must be between 0 and 3600, got -3"), daemon.stderr)
        // A config that is valid but names an event log that is a folder on this machine: rejected as a whole.
        try good.replacingOccurrences(of: path("log/actions.jsonl"), with: path("b"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.components(separatedBy: "the new config is rejected").count == 3 },
                      daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("error: the event log `\(path("b"))` is a folder"), daemon.stderr)
        // A model card whose graph is cut in half: rejected as a whole at the card's line, the old config goes on;
        // `run` with it exits 2 before any source starts and leaves the watched folder alone.
        let models = root.appendingPathComponent("models/default").path
        try FileManager.default.copyItem(atPath: models, toPath: path("broken-models"))
        let graph = path("broken-models/actions-r2plus1d.onnx")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: graph))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: graph))
        let brokenModel = good.replacingOccurrences(of: models, with: path("broken-models"))
        try brokenModel.write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 60) { daemon.stderr.components(separatedBy: "the new config is rejected").count == 4 },
                      daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains(path("broken-models/actions-r2plus1d.yaml") + ":"), daemon.stderr)
        try FileManager.default.createDirectory(atPath: path("untouched"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: clips[0], toPath: path("untouched/waiting.mp4"))
        try brokenModel.replacingOccurrences(of: path("a"), with: path("untouched"))
            .write(toFile: path("broken.yaml"), atomically: true, encoding: .utf8)
        let refused = try ActiondBinary.run(["run", "--config", path("broken.yaml")], in: dir)
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.hasPrefix(path("broken-models/actions-r2plus1d.yaml") + ":"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path("untouched")), ["waiting.mp4"])
        try FileManager.default.copyItem(atPath: clips[0], toPath: path("a/one.mp4"))
        XCTAssertTrue(eventually(timeout: 60) { daemon.stderr.contains("one.mp4: done") }, "the old config keeps working\n\(daemon.stderr)")

        try good.replacingOccurrences(of: "sinks:", with: """
              - id: b
                watch: \(path("b"))
                settle: 0.2
            sinks:
            """).write(toFile: config, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        XCTAssertTrue(eventually(timeout: 30) { daemon.stderr.contains("config reloaded; started/restarted: b; unchanged: a") },
                      daemon.stderr)
        try FileManager.default.copyItem(atPath: clips[1], toPath: path("b/two.mp4"))
        XCTAssertTrue(eventually(timeout: 60) { daemon.stderr.contains("two.mp4: done") }, daemon.stderr)
        // The unchanged source kept running through both reloads: never re-started, still taking files.
        try FileManager.default.copyItem(atPath: clips[0], toPath: path("a/three.mp4"))
        XCTAssertTrue(eventually(timeout: 60) { daemon.stderr.contains("three.mp4: done") }, daemon.stderr)
        XCTAssertEqual(daemon.stderr.components(separatedBy: "watching \(path("a"))").count - 1, 1, daemon.stderr)
        let sources = Set(logLines(path("log/actions.jsonl")).compactMap { $0?["source"] as? String })
        XCTAssertEqual(sources, ["a", "b"])

        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
        XCTAssertTrue(daemon.stderr.contains("stopped"), daemon.stderr)
    }

    /// READY=1 after start-up, STATUS= lines, WATCHDOG=1 pings (their interval is NotifierTests'), STOPPING=1 on
    /// SIGTERM — read from a real unix datagram socket given in NOTIFY_SOCKET. A bad config exits 2 with file:line:col.
    func testSystemdNotifyProtocolAndConfigErrors() throws {
        let socketPath = path("notify.sock")
        let listener = try NotifyListener(path: socketPath)
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        let config = try writeConfig(service: """
            sources:
              - id: inbox
                watch: \(path("inbox"))
            sinks:
              - stdout
            """)
        let daemon = try DaemonProcess(config: config, in: dir, environment: ["NOTIFY_SOCKET": socketPath,
                                                                              "WATCHDOG_USEC": "1000000"])
        XCTAssertTrue(eventually(timeout: 30) {
            listener.receive()
            return listener.messages.contains { $0.contains("READY=1") }
                && listener.messages.filter { $0.contains("WATCHDOG=1") }.count >= 3
        }, "\(listener.messages)\n\(daemon.stderr)")
        XCTAssertTrue(listener.messages.contains { $0.contains("STATUS=sources: inbox up") }, "\(listener.messages)")
        // (The ping interval, half of WATCHDOG_USEC, is NotifierTests' `watchdogPingInterval`; no wall time here.)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
        listener.receive()
        XCTAssertTrue(listener.messages.contains { $0.contains("STOPPING=1") }, "\(listener.messages)")

        try "version: 1\nsources:\n  - id: x\n    wacth: /tmp\npipeline:\n  - decode\n".write(toFile: path("bad.yaml"),
                                                                                            atomically: true, encoding: .utf8)
        let bad = try ActiondBinary.run(["run", "--config", path("bad.yaml")])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:4:5: error: unknown key `wacth`"), bad.stderr)
    }
}
