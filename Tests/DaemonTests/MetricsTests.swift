// The metrics registry rendered exactly (golden text), and the /metrics HTTP server answering real client sockets:
// status codes, size caps, a silent client that must not hold the server, loopback-only binding.
import Foundation
import Glibc
import Synchronization
import XCTest

@testable import Daemon

final class MetricsTests: XCTestCase {
    func testRenderMatchesTheExpositionFormatExactly() {
        let metrics = Metrics()
        metrics.add("actiond_frames_decoded_total", 3, labels: ["source": "door-cam"], help: "Frames decoded.")
        metrics.add("actiond_frames_decoded_total", labels: ["source": "door-cam"], help: "Frames decoded.")
        metrics.add("actiond_frames_decoded_total", 2, labels: ["source": "inbox"], help: "Frames decoded.")
        metrics.set("actiond_source_up", 1, labels: ["source": "a \"quoted\" \\ back\nslash"], help: "Up.\nSecond \\")
        metrics.set("actiond_source_up", 0, labels: ["source": "inbox"], help: "Up.\nSecond \\")
        metrics.set("actiond_source_up", 0.25, labels: ["source": "inbox"], help: "ignored: the first help stays")
        let buckets = [0.5, 0.1, 1, 0.1]  // unsorted with a duplicate: the registry sorts and de-duplicates
        for value in [0.05, 0.1, 0.3, 2] {
            metrics.observe(
                "actiond_stage_latency_seconds", value, labels: ["stage": "classify"], help: "Latency.",
                buckets: buckets)
        }
        metrics.add("actiond_events_written_total", 7, help: "Events.")
        let expected = """
            # HELP actiond_events_written_total Events.
            # TYPE actiond_events_written_total counter
            actiond_events_written_total 7
            # HELP actiond_frames_decoded_total Frames decoded.
            # TYPE actiond_frames_decoded_total counter
            actiond_frames_decoded_total{source="door-cam"} 4
            actiond_frames_decoded_total{source="inbox"} 2
            # HELP actiond_source_up Up.\\nSecond \\\\
            # TYPE actiond_source_up gauge
            actiond_source_up{source="a \\"quoted\\" \\\\ back\\nslash"} 1
            actiond_source_up{source="inbox"} 0.25
            # HELP actiond_stage_latency_seconds Latency.
            # TYPE actiond_stage_latency_seconds histogram
            actiond_stage_latency_seconds_bucket{stage="classify",le="0.1"} 2
            actiond_stage_latency_seconds_bucket{stage="classify",le="0.5"} 3
            actiond_stage_latency_seconds_bucket{stage="classify",le="1"} 3
            actiond_stage_latency_seconds_bucket{stage="classify",le="+Inf"} 4
            actiond_stage_latency_seconds_sum{stage="classify"} 2.45
            actiond_stage_latency_seconds_count{stage="classify"} 4

            """
        XCTAssertEqual(metrics.render(), expected)
        XCTAssertEqual(metrics.rejectedUpdates, 0)
    }

    func testLabelsAreSortedByNameAndSeriesByLabels() {
        let metrics = Metrics()
        metrics.add("x_total", labels: ["z": "1", "a": "2"], help: "X.")
        metrics.add("x_total", labels: ["z": "0", "a": "2"], help: "X.")
        metrics.add("x_total", labels: ["z": "9", "a": "1"], help: "X.")
        let lines = metrics.render().split(separator: "\n").filter { !$0.hasPrefix("#") }
        XCTAssertEqual(lines, [#"x_total{a="1",z="9"} 1"#, #"x_total{a="2",z="0"} 1"#, #"x_total{a="2",z="1"} 1"#])
    }

    func testValuesOfCountersGaugesAndHistograms() {
        let metrics = Metrics()
        XCTAssertNil(metrics.value("actiond_reconnects_total", labels: ["source": "cam"]))
        metrics.add("actiond_reconnects_total", labels: ["source": "cam"], help: "Reconnects.")
        metrics.add("actiond_reconnects_total", 2.5, labels: ["source": "cam"], help: "Reconnects.")
        XCTAssertEqual(metrics.value("actiond_reconnects_total", labels: ["source": "cam"]), 3.5)
        XCTAssertNil(metrics.value("actiond_reconnects_total", labels: ["source": "other"]))
        metrics.set("actiond_source_up", 1, labels: ["source": "cam"], help: "Up.")
        metrics.set("actiond_source_up", 0, labels: ["source": "cam"], help: "Up.")
        XCTAssertEqual(metrics.value("actiond_source_up", labels: ["source": "cam"]), 0)
        metrics.observe("lat_seconds", 0.002, help: "L.")
        metrics.observe("lat_seconds", 20, help: "L.")
        XCTAssertEqual(metrics.value("lat_seconds_count"), 2)
        XCTAssertEqual(metrics.value("lat_seconds_sum"), 20.002)
        XCTAssertNil(metrics.value("lat_seconds"))
        // Default buckets: 0.002 falls in le="0.0025"; 20 only in +Inf.
        let text = metrics.render()
        XCTAssertTrue(text.contains("lat_seconds_bucket{le=\"0.001\"} 0\n"), text)
        XCTAssertTrue(text.contains("lat_seconds_bucket{le=\"0.0025\"} 1\n"), text)
        XCTAssertTrue(text.contains("lat_seconds_bucket{le=\"10\"} 1\n"), text)
        XCTAssertTrue(text.contains("lat_seconds_bucket{le=\"+Inf\"} 2\n"), text)
        XCTAssertEqual(Metrics.latencyBuckets.first, 0.001)
        XCTAssertEqual(Metrics.latencyBuckets.last, 10)
        XCTAssertEqual(Metrics.latencyBuckets, Metrics.latencyBuckets.sorted())
    }

    /// "\r\n" is one Swift Character: the escaping must still see its line feed.
    func testLabelValuesWithCRLFStayOnOneLine() {
        let metrics = Metrics()
        metrics.add("x_total", labels: ["path": "a\r\nb\"c\\"], help: "X.")
        XCTAssertTrue(metrics.render().contains("x_total{path=\"a\r\\nb\\\"c\\\\\"} 1\n"), metrics.render())
    }

    func testMisfitUpdatesAreRejectedAndCountedNotApplied() {
        let metrics = Metrics()
        metrics.add("c_total", 2, help: "C.")
        metrics.set("c_total", 100, help: "C.")  // a gauge update of a counter
        metrics.add("c_total", -1, help: "C.")  // counters only go up
        metrics.add("c_total", .nan, help: "C.")
        metrics.add("9starts_with_digit", help: "Bad.")
        metrics.add("has-dash_total", help: "Bad.")
        metrics.add("ok_total", labels: ["bad-label": "x"], help: "Bad.")
        metrics.add("ok_total", labels: ["__reserved": "x"], help: "Bad.")
        metrics.observe("h_seconds", 1, labels: ["le": "x"], help: "le is the bucket label.")
        metrics.observe("h2_seconds", 1, help: "H.", buckets: [1, 2])
        metrics.observe("h2_seconds", 1, help: "H.", buckets: [1, 3])  // other buckets than the first observation
        metrics.observe("h2_seconds", .nan, help: "H.", buckets: [1, 2])  // would make _sum NaN for good
        XCTAssertEqual(metrics.rejectedUpdates, 10)
        XCTAssertTrue(metrics.render().contains("h2_seconds_sum 1\n"), metrics.render())
        XCTAssertEqual(metrics.value("c_total"), 2)
        XCTAssertEqual(metrics.value("h2_seconds_count"), 1)
        XCTAssertFalse(metrics.render().contains("ok_total"))
        XCTAssertFalse(metrics.render().contains("has-dash"))
    }

    func testRemoveDropsASeriesAndAnEmptyFamily() {
        let metrics = Metrics()
        metrics.set("actiond_source_up", 1, labels: ["source": "a"], help: "Up.")
        metrics.set("actiond_source_up", 1, labels: ["source": "b"], help: "Up.")
        XCTAssertTrue(metrics.remove("actiond_source_up", labels: ["source": "a"]))
        XCTAssertFalse(metrics.remove("actiond_source_up", labels: ["source": "a"]))
        XCTAssertNil(metrics.value("actiond_source_up", labels: ["source": "a"]))
        XCTAssertTrue(metrics.render().contains(#"actiond_source_up{source="b"} 1"#))
        XCTAssertTrue(metrics.remove("actiond_source_up", labels: ["source": "b"]))
        XCTAssertEqual(metrics.render(), "")
    }

    func testNumberFormatting() {
        XCTAssertEqual(Metrics.format(3), "3")
        XCTAssertEqual(Metrics.format(-2), "-2")
        XCTAssertEqual(Metrics.format(0.25), "0.25")
        XCTAssertEqual(Metrics.format(1e-5), "1e-05")
        XCTAssertEqual(Metrics.format(1e20), "1e+20")
        XCTAssertEqual(Metrics.format(.infinity), "+Inf")
        XCTAssertEqual(Metrics.format(-.infinity), "-Inf")
        XCTAssertEqual(Metrics.format(.nan), "NaN")
    }

    func testConcurrentUpdatesAreAllCounted() async {
        let metrics = Metrics()
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for _ in 0..<1000 {
                        metrics.add("n_total", labels: ["task": "\(task % 2)"], help: "N.")
                        metrics.observe("d_seconds", 0.01, help: "D.")
                    }
                }
            }
        }
        XCTAssertEqual(metrics.value("n_total", labels: ["task": "0"]), 4000)
        XCTAssertEqual(metrics.value("n_total", labels: ["task": "1"]), 4000)
        XCTAssertEqual(metrics.value("d_seconds_count"), 8000)
    }
}

final class HTTPServerTests: XCTestCase {
    /// The handler the daemon will install, over a small registry.
    private func makeServer(timeout: Double = 5, host: String = "127.0.0.1") throws -> (HTTPServer, Metrics) {
        let metrics = Metrics()
        metrics.add("actiond_files_processed_total", 5, labels: ["source": "inbox"], help: "Files processed.")
        let server = try HTTPServer(host: host, port: 0, timeout: timeout) { request in
            switch request.path {
            case "/metrics": .metrics(metrics)
            case "/healthz": HTTPResponse(text: "ok\n")
            default: .notFound(request)
            }
        }
        server.start()
        addTeardownBlock { server.stop() }
        return (server, metrics)
    }

    func testMetricsAreServedWithThePrometheusContentType() throws {
        let (server, metrics) = try makeServer()
        XCTAssertNotEqual(server.port, 0)
        let response = try OpsHTTPClient.exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(response.header("content-length"), "\(response.body.utf8.count)")
        XCTAssertEqual(response.body, metrics.render())
        XCTAssertTrue(response.body.contains(#"actiond_files_processed_total{source="inbox"} 5"#))

        // Every scrape renders the registry as it is now.
        metrics.add("actiond_files_processed_total", labels: ["source": "inbox"], help: "Files processed.")
        let again = try OpsHTTPClient.exchange(port: server.port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n")
        XCTAssertTrue(again.body.contains(#"actiond_files_processed_total{source="inbox"} 6"#), again.body)

        let health = try OpsHTTPClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.body, "ok\n")
    }

    func testHandlerHeadersAndStatusPassThroughButFramingIsTheServers() throws {
        let server = try HTTPServer(port: 0) { request in
            var response = HTTPResponse(
                status: 503, text: "{\"status\":\"degraded\"}\n", contentType: "application/json")
            response.headers += [("X-Source", "door\r\ncam"), ("Content-Length", "999"), ("Connection", "keep-alive")]
            return request.path == "/healthz" ? response : .notFound(request)
        }
        server.start()
        defer { server.stop() }
        let response = try OpsHTTPClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.header("content-type"), "application/json")
        XCTAssertEqual(response.header("x-source"), "door  cam")  // a line break cannot split the response
        XCTAssertEqual(response.header("content-length"), "22")
        XCTAssertEqual(response.headers.filter { $0.0.lowercased() == "content-length" }.count, 1)
        XCTAssertEqual(response.header("connection"), "close")
        XCTAssertEqual(response.body, "{\"status\":\"degraded\"}\n")
    }

    func testHeadGetsHeadersWithoutBody() throws {
        let (server, _) = try makeServer()
        let response = try OpsHTTPClient.exchange(port: server.port, "HEAD /healthz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("content-length"), "3")
        XCTAssertEqual(response.body, "")
    }

    func testUnknownPathIs404() throws {
        let (server, _) = try makeServer()
        let response = try OpsHTTPClient.exchange(port: server.port, "GET /nope HTTP/1.1\r\n\r\n")
        XCTAssertEqual(response.status, 404)
        XCTAssertTrue(response.body.contains("/nope"))
    }

    func testOtherMethodsAre405WithAllow() throws {
        let (server, _) = try makeServer()
        for method in ["POST", "PUT", "DELETE"] {
            let body = "a=1"
            let response = try OpsHTTPClient.exchange(
                port: server.port, "\(method) /metrics HTTP/1.1\r\nContent-Length: \(body.count)\r\n\r\n\(body)")
            XCTAssertEqual(response.status, 405, method)
            XCTAssertEqual(response.header("allow"), "GET, HEAD")
        }
    }

    func testMalformedRequestsAre400And505() throws {
        let (server, _) = try makeServer()
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GARBAGE\r\n\r\n").status, 400)
        XCTAssertEqual(
            try OpsHTTPClient.exchange(port: server.port, "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n").status, 400)
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GET metrics HTTP/1.1\r\n\r\n").status, 400)
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GET /metrics HTTP/2.0\r\n\r\n").status, 505)
        // Absolute-form targets are understood.
        XCTAssertEqual(
            try OpsHTTPClient.exchange(port: server.port, "GET http://127.0.0.1/healthz HTTP/1.1\r\n\r\n").status, 200)
    }

    func testOversizedHeadersAre431AndAnOversizedRequestLineIs414() throws {
        let (server, _) = try makeServer()
        let bigHeader = "GET /metrics HTTP/1.1\r\nX-Filler: \(String(repeating: "a", count: 9000))\r\n\r\n"
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, bigHeader).status, 431)
        // Headers that never end: the cap answers before any end of head arrives.
        let endless = "GET /metrics HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 1200)
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, endless).status, 431)
        let longLine = "GET /\(String(repeating: "m", count: 9000)) HTTP/1.1\r\n\r\n"
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, longLine).status, 414)
        // Just under the cap is fine.
        let fits = "GET /healthz HTTP/1.1\r\nX-Filler: \(String(repeating: "a", count: 8000))\r\n\r\n"
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, fits).status, 200)
    }

    func testARequestArrivingInPiecesIsAssembled() throws {
        let (server, _) = try makeServer()
        let fd = try OpsHTTPClient.connect(port: server.port)
        defer { close(fd) }
        // Split inside the request line and inside the blank line that ends the head.
        for piece in ["GET /hea", "lthz HTTP/1.1\r\nHost: x\r", "\n\r", "\n"] {
            try OpsHTTPClient.send(fd, piece)
            usleep(20_000)
        }
        let response = try OpsHTTPClient.readResponse(fd, within: 10)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, "ok\n")
    }

    func testASilentClientDoesNotBlockOthers() throws {
        // A long deadline: a server that served connections one after another would answer the others only
        // after cutting the silent ones off, and the check at the end would see them closed.
        let (server, _) = try makeServer(timeout: 30)
        let silent = try OpsHTTPClient.connect(port: server.port)
        defer { close(silent) }
        let halfway = try OpsHTTPClient.connect(port: server.port)
        defer { close(halfway) }
        try OpsHTTPClient.send(halfway, "GET /metr")  // starts a request and stalls
        for _ in 0..<3 {
            XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n").status, 200)
        }
        XCTAssertTrue(OpsHTTPClient.isOpenAndQuiet(silent))
        XCTAssertTrue(OpsHTTPClient.isOpenAndQuiet(halfway))
    }

    func testASilentClientIsCutOffAtItsDeadline() throws {
        let (server, _) = try makeServer(timeout: 0.3)
        let silent = try OpsHTTPClient.connect(port: server.port)
        defer { close(silent) }
        let halfway = try OpsHTTPClient.connect(port: server.port)
        defer { close(halfway) }
        try OpsHTTPClient.send(halfway, "GET /metr")
        // At the deadline the server answers 408 and closes: a read sees the response, then end of stream.
        XCTAssertEqual(try OpsHTTPClient.readResponse(silent, within: 10).status, 408)
        XCTAssertEqual(try OpsHTTPClient.readResponse(halfway, within: 10).status, 408)
        // The server is still serving.
        XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n").status, 200)
    }

    func testManyConcurrentClientsAreAllAnswered() throws {
        let (server, _) = try makeServer()
        let port = server.port
        let statuses = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { _ in
            let status = (try? OpsHTTPClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").status) ?? -1
            statuses.withLock { $0.append(status) }
        }
        XCTAssertEqual(statuses.withLock { $0 }, Array(repeating: 200, count: 40))
    }

    func testNonLoopbackHostsAreRefusedUnlessAllowed() throws {
        XCTAssertThrowsError(try HTTPServer(host: "0.0.0.0", port: 0) { _ in HTTPResponse(text: "") }) { error in
            let error = error as? HTTPServerError
            XCTAssertEqual(error?.code, .nonLoopbackHost)
            XCTAssertTrue(error?.description.contains("0.0.0.0") == true, "\(String(describing: error))")
        }
        XCTAssertThrowsError(try HTTPServer(host: "::", port: 0) { _ in HTTPResponse(text: "") }) { error in
            XCTAssertEqual((error as? HTTPServerError)?.code, .nonLoopbackHost)
        }
        XCTAssertThrowsError(try HTTPServer(host: "example.org", port: 0) { _ in HTTPResponse(text: "") }) { error in
            XCTAssertEqual((error as? HTTPServerError)?.code, .invalidHost)
        }
        XCTAssertThrowsError(try HTTPServer(port: 70000) { _ in HTTPResponse(text: "") }) { error in
            XCTAssertEqual((error as? HTTPServerError)?.code, .invalidPort)
        }
        let open = try HTTPServer(host: "0.0.0.0", port: 0, allowNonLoopback: true) { _ in HTTPResponse(text: "hi") }
        open.start()
        defer { open.stop() }
        XCTAssertEqual(try OpsHTTPClient.exchange(port: open.port, "GET / HTTP/1.1\r\n\r\n").body, "hi")
    }

    func testLoopbackAliasesAndIPv6() throws {
        // `localhost` is bound as 127.0.0.1; any 127/8 address is loopback too. Each answers on its address.
        for (host, address) in [("localhost", "127.0.0.1"), ("127.0.0.2", "127.0.0.2")] {
            let server = try HTTPServer(host: host, port: 0) { _ in HTTPResponse(text: host) }
            server.start()
            defer { server.stop() }
            XCTAssertEqual(try OpsHTTPClient.exchange(port: server.port, "GET / HTTP/1.1\r\n\r\n", host: address).body,
                           host)
        }
        let v6: HTTPServer
        do {
            v6 = try HTTPServer(host: "::1", port: 0) { _ in HTTPResponse(text: "six") }
        } catch let error as HTTPServerError where error.errno == EADDRNOTAVAIL || error.errno == EAFNOSUPPORT {
            throw XCTSkip("this machine has no IPv6 loopback: \(error)")
        }
        v6.start()
        defer { v6.stop() }
        XCTAssertEqual(try OpsHTTPClient.exchange(port: v6.port, "GET / HTTP/1.1\r\n\r\n", ipv6: true).body, "six")
    }

    func testTheBoundPortIsBusyUntilStopAndFreeAfter() throws {
        let (server, _) = try makeServer()
        XCTAssertThrowsError(try HTTPServer(port: server.port) { _ in HTTPResponse(text: "") }) { error in
            let error = error as? HTTPServerError
            XCTAssertEqual(error?.code, .socket)
            XCTAssertEqual(error?.errno, EADDRINUSE)
        }
        let port = server.port
        server.stop()
        server.stop()  // idempotent
        XCTAssertThrowsError(try OpsHTTPClient.connect(port: port))  // the listener is closed: refused
        // SO_REUSEADDR: the port can be bound again at once, as a restarted daemon would.
        let again = try HTTPServer(port: port) { _ in HTTPResponse(text: "again") }
        again.start()
        defer { again.stop() }
        XCTAssertEqual(try OpsHTTPClient.exchange(port: port, "GET / HTTP/1.1\r\n\r\n").body, "again")
    }
}

/// A raw-socket HTTP client for the tests: every read has a timeout so a broken server fails a test, never hangs it.
enum OpsHTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name }?.1
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func connect(port: Int, ipv6: Bool = false, host: String? = nil) throws -> Int32 {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        let address = try HTTPServerAddress(host: host ?? (ipv6 ? "::1" : "127.0.0.1"), port: port)
        guard address.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw Failure(description: "connect to port \(port): \(String(cString: strerror(code)))")
        }
        return fd
    }

    static func send(_ fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            // The server may answer (431) and stop reading before a too-large request is fully sent.
            if sent < 0 { return }
            offset += sent
        }
    }

    /// Whether the server has neither answered nor closed this connection (nothing to read, no end of stream).
    static func isOpenAndQuiet(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    /// Reads until the server closes, at most `within` seconds, and parses the response.
    static func readResponse(_ fd: Int32, within seconds: Double) throws -> Response {
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET && !data.isEmpty { break }
                throw Failure(description: "recv after \(data.count) bytes: \(String(cString: strerror(errno)))")
            }
            data += chunk[0..<count]
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure(description: "no response head: \(text)") }
        var lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, statusLine[0] == "HTTP/1.1", let status = Int(statusLine[1]) else {
            throw Failure(description: "bad status line in: \(text)")
        }
        let headers = lines.map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Response(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    /// Connects, sends `request`, reads the whole response.
    static func exchange(port: Int, _ request: String, ipv6: Bool = false, host: String? = nil) throws -> Response {
        let fd = try connect(port: port, ipv6: ipv6, host: host)
        defer { close(fd) }
        try send(fd, request)
        return try readResponse(fd, within: 10)
    }
}
