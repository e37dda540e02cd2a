// The `stdout` sink: events on standard output, for `journalctl` or a terminal, as JSON Lines or short human
// lines. Each line goes out whole with one write(2) under a lock, so lines of concurrent sources never interleave.
import Foundation
import TextFormat
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Writes events to standard output (or, for tests, another descriptor), one line each.
///
/// With stdout on a pipe or the journal socket, a reader that goes away makes `write(2)` raise SIGPIPE; the
/// daemon ignores SIGPIPE so that this surfaces as a thrown `EPIPE` instead of killing the process.
public final class StdoutSink: Sendable {
    /// How events are rendered.
    public enum Format: String, Sendable, Equatable {
        /// The event's `jsonLine`, exactly as the `jsonl` sink writes it.
        case json
        /// A short human line: `2026-11-21T10:00:03.120Z inbox clip.mp4 #7 wave 0.93 12.40–14.00s`.
        case text
    }

    /// How events are rendered.
    public let format: Format
    private let fd: Int32
    private let linesWrittenCount = Mutex(0)

    /// A sink on file descriptor 1.
    public convenience init(format: Format) {
        self.init(format: format, fileDescriptor: STDOUT_FILENO)
    }

    /// A sink on `fileDescriptor`, which the caller owns and keeps open.
    init(format: Format, fileDescriptor: Int32) {
        self.format = format
        self.fd = fileDescriptor
    }

    /// Lines written so far.
    public var linesWritten: Int { linesWrittenCount.withLock { $0 } }

    /// Writes one action event as a line.
    /// - Throws: `SinkError` when the descriptor refuses the write (closed pipe, full disk).
    public func write(_ event: ActionEvent) throws {
        try writeLine(format == .json ? event.jsonLine : Self.textLine(event))
    }

    /// Writes one lifecycle event as a line.
    /// - Throws: `SinkError` when the descriptor refuses the write.
    public func write(_ event: LifecycleEvent) throws {
        try writeLine(format == .json ? event.jsonLine : Self.textLine(event))
    }

    /// `<ts> <source> <media name> [#track] <label> <score, 2 dp> <start>–<end>s`; for a file the media is its
    /// last path component, a URL is shown whole.
    static func textLine(_ event: ActionEvent) -> String {
        var parts = [LineFormat.timestamp(event.ts), textField(event.source), textField(displayedMedia(event.media))]
        if let track = event.track { parts.append("#\(track)") }
        parts.append(textField(event.label))
        parts.append(decimal(event.score, digits: 2))
        let span = decimal(event.start, digits: 2) + "–" + decimal(event.end, digits: 2)
        parts.append(span + "s")
        return parts.joined(separator: " ")
    }

    /// `<ts> <source> <event> [media] key=value …`.
    static func textLine(_ event: LifecycleEvent) -> String {
        var parts = [LineFormat.timestamp(event.ts), textField(event.source), event.kind.rawValue]
        if let media = event.media { parts.append(textField(displayedMedia(media))) }
        for (key, value) in event.fields {
            let shown: String
            switch value {
            case .string(let text): shown = textField(text)
            default: shown = value.jsonText
            }
            parts.append(textField(key) + "=" + shown)
        }
        return parts.joined(separator: " ")
    }

    private static func displayedMedia(_ media: String) -> String {
        if media.contains("://") { return media }
        let name = (media as NSString).lastPathComponent
        return name.isEmpty ? media : name
    }

    /// A value that would break the line or be ambiguous (control characters, spaces, quotes, empty) is shown
    /// as a JSON string; anything else as is.
    private static func textField(_ text: String) -> String {
        let plain = !text.isEmpty && !text.utf8.contains { $0 <= 0x20 || $0 == 0x7F || $0 == 0x22 || $0 == 0x5C }
        return plain ? text : jsonString(text)
    }

    private func writeLine(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        try linesWrittenCount.withLock { count in
            if let failure = bytes.withUnsafeBytes({ WholeWrite.write(fd, $0) }) {
                throw SinkError.system("write", path: "<fd \(fd)>", errorNumber: failure.errorNumber)
            }
            count += 1
        }
    }
}
