// Small bridges to FFmpeg's C API: error text, constants Swift cannot import, log level, rationals.
import CFFmpeg
import Foundation

enum FF {
    static let noPTS: Int64 = actiond_av_nopts_value
    static let eof: Int32 = actiond_averror_eof
    static let again: Int32 = actiond_averror_eagain
    static let invalidData: Int32 = actiond_averror_invaliddata
    static let decoderNotFound: Int32 = actiond_averror_decoder_not_found
    static let streamNotFound: Int32 = actiond_averror_stream_not_found
    /// What a call interrupted by our deadline callback returns.
    static let exit: Int32 = actiond_averror_exit

    /// FFmpeg's message for an error code (av_err2str is a macro and does not import).
    static func message(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        if av_strerror(code, &buffer, buffer.count) < 0 { return "error \(code)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func seconds(_ rational: AVRational) -> Double {
        rational.den == 0 ? 0 : Double(rational.num) / Double(rational.den)
    }

    /// FFmpeg's own console logging is off unless `ACTIOND_FFMPEG_LOG` names a level (quiet, error, warning,
    /// info, verbose, debug): our typed errors carry what a user needs, and per-frame warnings would flood logs.
    static let configureLogging: Void = {
        let levels: [String: Int32] = [
            "quiet": AV_LOG_QUIET, "error": AV_LOG_ERROR, "warning": AV_LOG_WARNING, "info": AV_LOG_INFO,
            "verbose": AV_LOG_VERBOSE, "debug": AV_LOG_DEBUG,
        ]
        let chosen = ProcessInfo.processInfo.environment["ACTIOND_FFMPEG_LOG"]?.lowercased()
        av_log_set_level(levels[chosen ?? "quiet"] ?? AV_LOG_QUIET)
        // With the console log off, FFmpeg's error messages are kept (per thread) instead: some failures are
        // explained only there.
        if chosen == nil {
            av_log_set_callback { context, level, format, arguments in
                guard let arguments else { return }
                keepErrorMessage(context, level: level, format: format, arguments: arguments)
            }
        }
    }()

    /// FFmpeg's last error-level message on this thread since the previous call, if its console log is off: some
    /// failures are explained only there (a header stating 30000×30000 fails to open with "Device or resource
    /// busy", and logs "Picture size 30000x30000 is invalid").
    static func takeLoggedError() -> String? {
        guard let text = pthread_getspecific(loggedErrorKey) else { return nil }
        pthread_setspecific(loggedErrorKey, nil)
        defer { free(text) }
        return String(cString: text.assumingMemoryBound(to: CChar.self))
    }
}

/// Per-thread slot for the last FFmpeg error message (a malloc'd C string, freed when replaced or at thread exit).
private let loggedErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

/// Installed as FFmpeg's log callback while its console log is off: keeps the last error-level message.
private func keepErrorMessage(
    _: UnsafeMutableRawPointer?, level: Int32, format: UnsafePointer<CChar>?, arguments: CVaListPointer
) {
    guard level <= AV_LOG_ERROR, let format else { return }
    var buffer = [CChar](repeating: 0, count: 512)
    _ = vsnprintf(&buffer, buffer.count, format, arguments)
    let copy = strdup(buffer)
    free(pthread_getspecific(loggedErrorKey))
    pthread_setspecific(loggedErrorKey, copy)
}

/// Frame-rate as a rational, kept exact for CFR streams (e.g. 30000/1001).
public struct FrameRate: Hashable, Sendable, Codable, CustomStringConvertible {
    public var numerator: Int
    public var denominator: Int
    public init(_ numerator: Int, _ denominator: Int = 1) {
        self.numerator = numerator
        self.denominator = denominator
    }
    public var value: Double { denominator == 0 ? 0 : Double(numerator) / Double(denominator) }
    public var description: String {
        denominator == 1 ? "\(numerator)" : String(format: "%.3f", value)
    }
}
