// One compiled pipeline per config: a hundred files through one watched folder compile each model graph once
// (counted in /metrics), and the count holds across a stream reconnect (ServiceLiveTests checks that one).
import Foundation
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
        XCTAssertTrue(eventually(600) { done() == 100 }, "\(done()) of 100 files done\n\(daemon.stderr)")
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
}
