// The HTTP/1.1 messages of the metrics endpoint: the request and response types, the request-head parser
// (RFC 9112, strict: one kind of client) and the response serializer. The socket side is HTTPServer.swift.
import Foundation

/// One parsed request.
public struct HTTPRequest: Sendable {
    /// `GET` or `HEAD` (other methods are answered 405 before the handler sees them).
    public var method: String
    /// The request target as sent (`/metrics?x=1`).
    public var target: String
    /// The target's path (`/metrics`), without the query.
    public var path: String
    /// The query after `?`, if any, not decoded.
    public var query: String?
    /// `HTTP/1.0` or `HTTP/1.1`.
    public var version: String
    /// Header fields in arrival order; names as sent.
    public var headers: [(name: String, value: String)]

    /// The first header with this name (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A response from the handler. The server adds `Content-Length` and `Connection: close` itself.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Extra header fields; `Content-Length` and `Connection` given here are ignored.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response (`text/plain; charset=utf-8`, or `contentType`).
    public init(status: Int = 200, text: String, contentType: String = "text/plain; charset=utf-8") {
        self.init(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// `/metrics`: the registry rendered, with the Prometheus 0.0.4 Content-Type.
    public static func metrics(_ metrics: Metrics) -> HTTPResponse {
        HTTPResponse(text: metrics.render(), contentType: Metrics.contentType)
    }

    /// `404 Not Found` naming the path.
    public static func notFound(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(status: 404, text: "not found: \(request.path)\n")
    }
}

extension HTTPServer {
    /// A request the server answers itself (400, 505) without asking the handler.
    struct Refusal: Error {
        var response: HTTPResponse
    }

    /// Parses the request line and header fields (RFC 9112). Anything odd is a 400: this server has exactly one
    /// kind of client (a scraper), so leniency buys nothing.
    static func parse(_ head: ArraySlice<UInt8>) -> Result<HTTPRequest, Refusal> {
        func bad(_ why: String) -> Result<HTTPRequest, Refusal> {
            .failure(Refusal(response: HTTPResponse(status: 400, text: "bad request: \(why)\n")))
        }
        guard let text = String(validating: head, as: UTF8.self) else { return bad("not UTF-8") }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst()
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { return bad("malformed request line") }
        let method = String(parts[0])
        var target = String(parts[1])
        let version = String(parts[2])
        guard version.hasPrefix("HTTP/") else { return bad("malformed request line") }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            return .failure(
                Refusal(response: HTTPResponse(status: 505, text: "HTTP version \(version) not supported\n")))
        }
        guard method.utf8.allSatisfy({ (65...90).contains($0) }) else { return bad("malformed method") }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { return bad("header line without a colon") }
            let name = String(line[..<colon])
            // Whitespace before the colon or a leading space (obsolete folding) is refused by RFC 9112 §5.
            guard !name.isEmpty, !name.contains(where: { $0 == " " || $0 == "\t" }) else {
                return bad("malformed header name")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append((name, value))
        }
        // Absolute form (`GET http://host/metrics`): keep the path.
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let rest = target.drop { $0 != ":" }.dropFirst(3)
            target = rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "/"
        }
        guard target.hasPrefix("/") || (method == "OPTIONS" && target == "*") else {
            return bad("request target must start with /")
        }
        let question = target.firstIndex(of: "?")
        let path = String(target[..<(question ?? target.endIndex)])
        let query = question.map { String(target[target.index(after: $0)...]) }
        return .success(
            HTTPRequest(method: method, target: target, path: path, query: query, version: version, headers: headers))
    }

    static func serialize(_ response: HTTPResponse, head: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers {
            let lower = name.lowercased()
            if lower == "content-length" || lower == "connection" { continue }
            // A header value cannot carry a line break: it would split the response.
            let clean = value.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
            text += "\(name): \(clean)\r\n"
        }
        text += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        return Array(text.utf8) + (head ? [] : response.body)
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 414: "URI Too Long"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 505: "HTTP Version Not Supported"
        default: "Status \(status)"
        }
    }
}
