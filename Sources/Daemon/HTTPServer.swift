// A tiny HTTP/1.1 server on a POSIX socket for `/metrics` and `/healthz`: loopback only by default, GET/HEAD only,
// one request per connection. One thread runs a poll(2) loop over the listener and every open connection, so a
// silent or slow client holds nothing but its own socket until its deadline. No SwiftNIO: this is enough for a
// scrape every few seconds and builds in seconds. The messages and their parsing are in HTTPParser.swift.
import Foundation
import Glibc
import Synchronization

/// Why the server could not be set up.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// Opaque error code: new codes can be added without breaking callers that switch on them.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The host is not an IPv4/IPv6 literal or `localhost`.
        public static let invalidHost = Code("invalid-host")
        /// The host is not a loopback address and `allowNonLoopback` was not given.
        public static let nonLoopbackHost = Code("non-loopback-host")
        /// The port is outside 0…65535.
        public static let invalidPort = Code("invalid-port")
        /// socket/setsockopt/bind/listen failed (`errno` says why, e.g. EADDRINUSE).
        public static let socket = Code("socket")
    }

    public var code: Code
    public var host: String
    public var port: Int
    /// Why, in one short phrase.
    public var reason: String
    public var errno: Int32?
    public var file: String
    public var line: Int

    public init(
        _ code: Code, host: String, port: Int, reason: String, errno: Int32? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.host = host
        self.port = port
        self.reason = reason
        self.errno = errno
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "metrics HTTP server on \(host):\(port): \(reason)"
        if let errno { text += " (\(String(cString: strerror(errno))))" }
        return text
    }
}

/// Serves `handler` over HTTP/1.1 on one address.
///
/// - Binds in `init` (so a busy port fails at start-up and `port` is known at once); ``start()`` begins serving.
/// - Only GET and HEAD reach the handler (HEAD gets the GET response without its body); other methods get 405.
/// - Request line and headers are capped at `maxHeaderBytes` (414 for a longer request line, 431 for longer
///   headers, 400 for malformed ones). Request bodies are not read.
/// - Every connection has `timeout` seconds to send its request and take the response; then it is closed.
/// - The handler runs on the server thread: keep it quick (render a registry, read a flag).
public final class HTTPServer: Sendable {
    /// The bound port (the kernel's choice when `port` was 0).
    public let port: Int
    /// The bound host, as given.
    public let host: String

    private let listener: Int32
    /// The read and write ends of a pipe that wakes the poll loop for ``stop()``.
    private let wake: Int32
    private let wakeWriter: Int32
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let maxHeaderBytes: Int
    private let timeout: Double
    private let maxConnections: Int
    private let phase = Mutex<Phase>(.bound)

    private enum Phase: Sendable {
        case bound
        case running(pthread_t)
        case stopped
    }

    /// Binds a listening socket on `host:port` (`port` 0 = any free port).
    ///
    /// - Parameters:
    ///   - host: an IPv4 or IPv6 literal, or `localhost` (127.0.0.1). Must be loopback unless `allowNonLoopback`.
    ///   - allowNonLoopback: accept a non-loopback host. Metrics carry source names and URLs: exposing them
    ///     beyond the machine is a decision, not a default.
    ///   - maxHeaderBytes: cap on request line plus headers.
    ///   - timeout: seconds a connection may take to send its request and read the response.
    ///   - maxConnections: open connections at most; further clients wait in the listen backlog.
    /// - Throws: ``HTTPServerError``.
    public init(
        host: String = "127.0.0.1", port: Int, allowNonLoopback: Bool = false, maxHeaderBytes: Int = 8192,
        timeout: Double = 5, maxConnections: Int = 64,
        handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse
    ) throws {
        guard (0...65535).contains(port) else {
            throw HTTPServerError(.invalidPort, host: host, port: port, reason: "port must be 0…65535")
        }
        let address = try HTTPServerAddress(host: host, port: port)
        if !address.isLoopback && !allowNonLoopback {
            throw HTTPServerError(
                .nonLoopbackHost, host: host, port: port,
                reason: "\(host) is not a loopback address; metrics are served on 127.0.0.1 or ::1 only unless "
                    + "non-loopback is explicitly allowed")
        }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw HTTPServerError(.socket, host: host, port: port, reason: "cannot create a socket", errno: errno)
        }
        func fail(_ what: String) -> HTTPServerError {
            let code = errno
            close(fd)
            return HTTPServerError(.socket, host: host, port: port, reason: what, errno: code)
        }
        var one: Int32 = 1
        // A restarted daemon must rebind at once, not wait out TIME_WAIT connections of its previous run.
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw fail("setsockopt(SO_REUSEADDR) failed")
        }
        if address.family == AF_INET6 {
            // An IPv6 address means IPv6 only: never widen "::1" to IPv4 as well.
            guard setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
            else { throw fail("setsockopt(IPV6_V6ONLY) failed") }
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else { throw fail("cannot bind") }
        guard listen(fd, 64) == 0 else { throw fail("cannot listen") }
        guard let bound = HTTPServerAddress.localPort(of: fd) else { throw fail("getsockname failed") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        // A pipe wakes the poll loop for stop() (eventfd and pipe2 are not visible through Glibc's module map).
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else { throw fail("pipe failed") }
        for end in pipeFDs { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }

        self.host = host
        self.port = bound
        self.listener = fd
        self.wake = pipeFDs[0]
        self.wakeWriter = pipeFDs[1]
        self.handler = handler
        self.maxHeaderBytes = maxHeaderBytes
        self.timeout = timeout
        self.maxConnections = max(1, maxConnections)
    }

    deinit {
        stop()
    }

    /// Starts the serving thread. Calling it again, or after ``stop()``, does nothing.
    public func start() {
        phase.withLock { phase in
            guard case .bound = phase else { return }
            let box = Unmanaged.passRetained(self).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(
                &tid, nil,
                { raw in
                    let server = Unmanaged<HTTPServer>.fromOpaque(raw!).takeRetainedValue()
                    server.serve()
                    return nil
                }, box)
            if rc == 0 {
                phase = .running(tid)
            } else {
                Unmanaged<HTTPServer>.fromOpaque(box).release()
                phase = .stopped
                closeSockets()
            }
        }
    }

    /// Stops serving: wakes the thread, waits for it to close every connection and exit, closes the listener.
    /// Idempotent.
    public func stop() {
        let running: pthread_t? = phase.withLock { phase in
            switch phase {
            case .running(let tid):
                phase = .stopped
                return tid
            case .bound:
                phase = .stopped
                closeSockets()
                return nil
            case .stopped:
                return nil
            }
        }
        guard let tid = running else { return }
        var one: UInt8 = 1
        _ = write(wakeWriter, &one, 1)
        if pthread_equal(tid, pthread_self()) != 0 {
            pthread_detach(tid)  // stop() from the handler: the loop exits after this request and closes itself
        } else {
            pthread_join(tid, nil)
        }
    }

    private func closeSockets() {
        close(listener)
        close(wake)
        close(wakeWriter)
    }

    // MARK: - The poll loop

    private final class Connection {
        enum Stage {
            /// Reading the request head.
            case reading
            /// Writing the response.
            case writing
            /// Response sent and write side shut: reading (and discarding) until the client closes, so unread
            /// request bytes do not turn our close into a reset that destroys the response in flight.
            case draining
        }

        let fd: Int32
        let deadline: Double
        var stage = Stage.reading
        var input: [UInt8] = []
        var output: [UInt8] = []
        var written = 0
        /// How much of `input` has been searched for the end of the head (a client sending a byte at a time must
        /// not make each read rescan everything).
        var scanned = 0

        init(fd: Int32, deadline: Double) {
            self.fd = fd
            self.deadline = deadline
        }
    }

    private func serve() {
        var connections: [Connection] = []
        defer {
            for connection in connections { close(connection.fd) }
            closeSockets()
        }
        while true {
            let now = Self.now()
            // Expired connections: a client that says nothing (or reads nothing) is cut off.
            connections.removeAll { connection in
                guard connection.deadline <= now else { return false }
                if connection.stage == .reading {
                    let response = Self.serialize(HTTPResponse(status: 408, text: "request timeout\n"), head: false)
                    _ = response.withUnsafeBytes { send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                close(connection.fd)
                return true
            }
            var fds = [pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            let accepting = connections.count < maxConnections
            fds.append(pollfd(fd: accepting ? listener : -1, events: Int16(POLLIN), revents: 0))
            for connection in connections {
                fds.append(
                    pollfd(
                        fd: connection.fd, events: Int16(connection.stage == .writing ? POLLOUT : POLLIN), revents: 0))
            }
            let nearest = connections.map(\.deadline).min()
            let waitMs = nearest.map { Int32(max(0, min(60_000, ($0 - now) * 1000 + 1))) } ?? -1
            let ready = poll(&fds, nfds_t(fds.count), waitMs)
            if ready < 0 {
                // EINTR, or ENOMEM under memory pressure: try again shortly. Only stop() ends this loop, so the
                // sockets it closes on the way out are never written to by stop() afterwards.
                if errno != EINTR { usleep(10_000) }
                continue
            }
            if fds[0].revents != 0 { return }

            var finished = Set<Int32>()
            for (index, connection) in connections.enumerated() where fds[index + 2].revents != 0 {
                if !progress(connection) { finished.insert(connection.fd) }
            }
            connections.removeAll { connection in
                guard finished.contains(connection.fd) else { return false }
                close(connection.fd)
                return true
            }
            if accepting && fds[1].revents != 0 {
                while connections.count < maxConnections {
                    let fd = accept(listener, nil, nil)
                    if fd < 0 { break }  // EAGAIN: drained; ECONNABORTED and friends: the next poll retries
                    // accept4 is not visible through Glibc's module map: set the flags right after.
                    _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                    connections.append(Connection(fd: fd, deadline: Self.now() + timeout))
                }
            }
        }
    }

    /// Reads or writes what the socket allows. Returns false when the connection is done.
    private func progress(_ connection: Connection) -> Bool {
        switch connection.stage {
        case .reading:
            while true {
                guard let chunk = Self.receive(connection.fd) else { return false }  // closed early, or an error
                if chunk.isEmpty { return true }  // nothing more for now
                connection.input += chunk
                let end = Self.find([13, 10, 13, 10], in: connection.input, from: max(0, connection.scanned - 3))
                connection.scanned = connection.input.count
                if let response = respond(to: connection.input, headEnd: end) {
                    connection.output = response
                    connection.stage = .writing
                    connection.input = []
                    return progress(connection)
                }
            }
        case .writing:
            while connection.written < connection.output.count {
                let sent = connection.output[connection.written...].withUnsafeBytes {
                    send(connection.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if sent < 0 {
                    if errno == EINTR { continue }
                    return errno == EAGAIN || errno == EWOULDBLOCK  // EPIPE/ECONNRESET: the client left
                }
                connection.written += sent
            }
            shutdown(connection.fd, Int32(SHUT_WR))  // Connection: close — the end of the body is the end of data
            connection.stage = .draining
            return progress(connection)
        case .draining:
            while let chunk = Self.receive(connection.fd) {
                if chunk.isEmpty { return true }
            }
            return false
        }
    }

    /// Bytes available now: nil at end of stream or on an error, empty when the read would block.
    private static func receive(_ fd: Int32) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(chunk[0..<count]) }
            if count == 0 { return nil }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK ? [] : nil
        }
    }

    /// The serialized response once `input` holds a whole head (or is already known to be bad); nil to read more.
    private func respond(to input: [UInt8], headEnd end: Int?) -> [UInt8]? {
        let headLength = end.map { $0 + 4 } ?? input.count
        if headLength > maxHeaderBytes || (end == nil && input.count >= maxHeaderBytes) {
            let lineEnd = Self.find([13, 10], in: input)
            if lineEnd == nil || lineEnd! + 2 > maxHeaderBytes {
                return Self.serialize(HTTPResponse(status: 414, text: "request line too long\n"), head: false)
            }
            return Self.serialize(HTTPResponse(status: 431, text: "request headers too large\n"), head: false)
        }
        guard let end else { return nil }
        switch Self.parse(input[0..<end]) {
        case .failure(let refusal):
            return Self.serialize(refusal.response, head: false)
        case .success(let request):
            guard request.method == "GET" || request.method == "HEAD" else {
                var refused = HTTPResponse(status: 405, text: "method \(request.method) not allowed; use GET\n")
                refused.headers.append(("Allow", "GET, HEAD"))
                return Self.serialize(refused, head: false)
            }
            return Self.serialize(handler(request), head: request.method == "HEAD")
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        for start in from...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// An IPv4 or IPv6 socket address parsed from a literal host.
struct HTTPServerAddress {
    var family: Int32
    var v4 = sockaddr_in()
    var v6 = sockaddr_in6()

    init(host: String, port: Int) throws {
        let literal = host == "localhost" ? "127.0.0.1" : host
        let bare = literal.hasPrefix("[") && literal.hasSuffix("]") ? String(literal.dropFirst().dropLast()) : literal
        if inet_pton(AF_INET, bare, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
        } else if inet_pton(AF_INET6, bare, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
        } else {
            throw HTTPServerError(
                .invalidHost, host: host, port: port,
                reason: "host must be an IPv4 or IPv6 address (e.g. 127.0.0.1, ::1) or localhost")
        }
    }

    /// 127.0.0.0/8, ::1, or an IPv4-mapped loopback (::ffff:127.x.x.x).
    var isLoopback: Bool {
        if family == AF_INET { return UInt32(bigEndian: v4.sin_addr.s_addr) >> 24 == 127 }
        let bytes = withUnsafeBytes(of: v6.sin6_addr) { Array($0) }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        return bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
    }

    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if family == AF_INET {
            var address = v4
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    body($0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        var address = v6
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }

    /// The port a socket is bound to (IPv4 and IPv6 keep it at the same offset).
    static func localPort(of fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: &storage) { raw in
            Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
        }
    }
}
