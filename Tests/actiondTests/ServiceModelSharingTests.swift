// One compiled pipeline per config: a hundred files through one watched folder compile each model graph once
// (counted in /metrics), and the count holds across a stream reconnect (ServiceLiveTests checks that one); four
// live streams at once all run on the shared model (and on a 2-core box none starves the others).
import Foundation
import TestSupport
import XCTest

/// Every `actiond_model_compilations_total` series in /metrics text, with its value.
func compilationSeries(_ text: String) -> [(series: String, value: Double)] {
    text.split(separator: "\n").filter { $0.hasPrefix("actiond_model_compilations_total{") }.compactMap { line in
        guard let value = Double(line.split(separator: " ").last ?? "") else { return nil }
        return (String(line.split(separator: " ").first ?? ""), value)
    }
}

extension ServiceTests {
    func testAHundredFilesCompileEachModelGraphOnce() throws {
        let clip = try render("one", seed: 6707, clips: 1, seconds: 1)[0]
        try FileManager.default.createDirectory(atPath: path("inbox"), withIntermediateDirectories: true)
        for i in 0..<100 {
            try FileManager.default.copyItem(atPath: clip, toPath: path(String(format: "inbox/f%03d.mp4", i)))
        }
        let metricsPort = freePort()
        let config = try writeConfig(service: """
            metrics: { listen: 127.0.0.1:\(metricsPort) }
            sources:
              - id: inbox
                watch: \(path("inbox"))
                settle: 0.2
                done: move:\(path("done"))
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        let daemon = try DaemonProcess(config: config, in: dir)
        func done() -> Int { (try? FileManager.default.contentsOfDirectory(atPath: path("done")).count) ?? 0 }
        XCTAssertTrue(eventually(timeout: 600) { done() == 100 }, "\(done()) of 100 files done\n\(daemon.stderr)")
        let (status, text) = try XCTUnwrap(httpGet(port: metricsPort, "/metrics"))
        XCTAssertEqual(status, 200)
        XCTAssertEqual(metric(text, "actiond_files_processed_total{source=\"inbox\"}"), 100, text)
        // The default pipeline runs one graph (the R(2+1)D classifier): compiled once, at start, for all 100.
        let series = compilationSeries(text)
        XCTAssertEqual(series.count, 1, text)
        XCTAssertEqual(series.map(\.value), [1], text)
        XCTAssertTrue(series.first?.series.contains("model=\"actions\"") ?? false, text)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(), 0, daemon.stderr)
    }

    /// Four live streams on one daemon: each decodes and is classified, over one compiled model,
    /// and SIGTERM stops them all. (A source blocking in a network read used to hold a thread of Swift's
    /// cooperative pool, which has one per core: on a 2-core box two streams took both and the rest never ran.)
    func testFourLiveStreamsShareOneCompiledModelAndAllRun() throws {
        let clip = try render("four", seed: 6808, clips: 1, seconds: 4, extra: ["--switch"])[0]
        let ports = (0..<4).map { _ in freePort() }, metricsPort = freePort()
        let servers = try ports.map { try serveLooping(clip, port: $0) }
        defer { for server in servers where server.isRunning { server.terminate() } }
        let sources = ports.enumerated().map { index, port in
            "  - id: cam\(index)\n    url: tcp://127.0.0.1:\(port)\n    reconnect: { initial: 0.2, max: 1 }"
        }.joined(separator: "\n")
        let config = try writeConfig(service: """
            metrics: { listen: 127.0.0.1:\(metricsPort) }
            sources:
            \(sources)
            sinks:
              - jsonl: { path: \(path("log/actions.jsonl")) }
            """)
        let daemon = try DaemonProcess(config: config, in: dir)
        func classified(_ text: String) -> [Double] {
            (0..<4).map { metric(text, "actiond_clips_classified_total{source=\"cam\($0)\"}") ?? 0 }
        }
        var text = ""
        XCTAssertTrue(eventually(timeout: 60) {
            text = httpGet(port: metricsPort, "/metrics")?.1 ?? ""
            return classified(text).allSatisfy { $0 >= 3 }
        }, "clips classified per stream: \(classified(text))\n\(daemon.stderr)")
        XCTAssertEqual(compilationSeries(text).map(\.value), [1], text)
        daemon.signal(SIGTERM)
        XCTAssertEqual(daemon.waitForExit(timeout: 30), 0, daemon.stderr)
    }
}
