// Decoding from real sockets: a raw TCP peer and a minimal HTTP server on localhost serve an MPEG-TS file.
import Foundation
import Media
import XCTest

/// A one-shot localhost server: accepts one connection on a background thread, optionally reads the request,
/// writes `header + body`, and closes.
final class OneShotServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let done = DispatchSemaphore(value: 0)

    init(header: String?, body: Data) throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listener = listener
        guard withUnsafePointer(to: &address, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) }
        }) == 0, listen(listener, 1) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        let done = done
        Thread.detachNewThread {
            let client = accept(listener, nil, nil)
            if client >= 0 {
                if header != nil {  // read the request head before answering
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    _ = read(client, &buffer, buffer.count)
                }
                let payload = Data((header ?? "").utf8) + body
                payload.withUnsafeBytes { raw in
                    var sent = 0
                    while sent < raw.count {
                        let n = write(client, raw.baseAddress! + sent, raw.count - sent)
                        if n <= 0 { break }
                        sent += n
                    }
                }
                close(client)
            }
            done.signal()
        }
    }

    func wait() { _ = done.wait(timeout: .now() + 10) }
    deinit { close(listener) }
}

final class NetworkSourceTests: XCTestCase {
    func testDecodeFromTCPAndHTTP() throws {
        let dir = try TestMedia.directory()
        let file = dir.appendingPathComponent("live.ts")
        try TestMedia.clip(file, frames: 50)
        let body = try Data(contentsOf: file)

        let tcp = try OneShotServer(header: nil, body: body)
        let (tcpFrames, _) = try TestMedia.decodeAll("tcp://127.0.0.1:\(tcp.port)")
        tcp.wait()
        XCTAssertEqual(tcpFrames.compactMap { $0.index }, Array(0..<50))

        let http = try OneShotServer(
            header: "HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nContent-Length: \(body.count)\r\n"
                + "Connection: close\r\n\r\n", body: body)
        let decoder = try VideoDecoder("http://127.0.0.1:\(http.port)/live.ts")
        XCTAssertEqual(decoder.info.container, "mpegts")
        var times: [Double] = []
        while let frame = try decoder.nextFrame() { times.append(frame.time) }
        http.wait()
        XCTAssertEqual(times.count, 50)
        XCTAssertEqual(times.last ?? 0, 49.0 / 25, accuracy: 1e-6)
    }

    /// A peer that sends half the stream and hangs up: the frames sent decode, then the stream ends cleanly.
    func testPeerHangsUpMidStream() throws {
        let dir = try TestMedia.directory()
        let file = dir.appendingPathComponent("half.ts")
        try TestMedia.clip(file, frames: 100)
        let body = try Data(contentsOf: file)
        let server = try OneShotServer(header: nil, body: body.prefix(body.count / 2))
        let (frames, _) = try TestMedia.decodeAll("tcp://127.0.0.1:\(server.port)")
        server.wait()
        XCTAssertGreaterThan(frames.count, 20)
        XCTAssertLessThan(frames.count, 80)
    }
}
