// Decodes the best video stream of any source libavformat opens (files, http(s), rtsp, udp, tcp, hls) into
// frames with monotonic presentation times in seconds. Damage is counted and skipped, never fatal mid-stream.
import CFFmpeg
import Foundation

public struct DecoderOptions: Sendable {
    /// Decoder threads; 0 lets FFmpeg pick (one per core).
    public var threads: Int = 0
    /// Frame threading decodes several frames at once (fastest for files) at the cost of a few frames of
    /// latency; live sources may prefer slice threading only.
    public var frameThreading = true
    /// Seconds a single open or read may block (network sources) before failing with a network error.
    public var timeout: Double = 10
    /// Extra libavformat options (e.g. "rtsp_transport": "tcp").
    public var formatOptions: [String: String] = [:]
    /// Whether a single still image (PNG, JPEG, … as FFmpeg's image demuxers read it) is accepted as a one-frame
    /// video. Tools that read pictures accept them; a video pipeline refuses them with a `not-a-video` error.
    public var stillImages = true

    public init(threads: Int = 0, frameThreading: Bool = true, timeout: Double = 10,
                formatOptions: [String: String] = [:], stillImages: Bool = true) {
        self.threads = threads
        self.frameThreading = frameThreading
        self.timeout = timeout
        self.formatOptions = formatOptions
        self.stillImages = stillImages
    }
}

/// One decoded picture, still in the codec's pixel format. Owns a reference to FFmpeg's frame buffers.
/// Not Sendable across tasks by design: a frame is used by one task at a time (the one that decoded or
/// received it), which is the invariant that makes `@unchecked Sendable` safe here.
public final class DecodedFrame: @unchecked Sendable {
    let avFrame: UnsafeMutablePointer<AVFrame>
    /// Presentation time in seconds from the start of the stream; strictly increasing.
    public let time: Double
    /// 0-based index in decode output order (= presentation order).
    public let index: Int
    /// Clockwise rotation to apply for display.
    public let rotation: Int

    init(taking frame: UnsafeMutablePointer<AVFrame>, time: Double, index: Int, rotation: Int) {
        avFrame = frame
        self.time = time
        self.index = index
        self.rotation = rotation
    }

    deinit {
        var frame: UnsafeMutablePointer<AVFrame>? = avFrame
        av_frame_free(&frame)
    }

    public var width: Int { Int(avFrame.pointee.width) }
    public var height: Int { Int(avFrame.pointee.height) }
    public var pixelFormat: String {
        av_get_pix_fmt_name(AVPixelFormat(avFrame.pointee.format)).map { String(cString: $0) } ?? "unknown"
    }
    public var isKeyFrame: Bool { avFrame.pointee.key_frame != 0 }
}

/// Deadline checked by FFmpeg's interrupt callback, so a dead network peer cannot block a read forever.
private final class InterruptDeadline {
    var deadline: UInt64 = .max
    func arm(seconds: Double) { deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9) }
    func disarm() { deadline = .max }
}

private let interruptCallback: @convention(c) (UnsafeMutableRawPointer?) -> Int32 = { opaque in
    guard let opaque else { return 0 }
    let box = Unmanaged<InterruptDeadline>.fromOpaque(opaque).takeUnretainedValue()
    return DispatchTime.now().uptimeNanoseconds > box.deadline ? 1 : 0
}

public final class VideoDecoder {
    /// The largest frame side, in pixels, a stream may state: headers beyond it are damaged or hostile (FFmpeg
    /// would try to allocate gigabytes, or fail with an unrelated message).
    public static let maxFrameSide = 16384
    /// The largest frame area, in pixels, a stream may state (8192×8192, 67 megapixels: beyond 8K UHD).
    public static let maxFramePixels = 8192 * 8192

    public let source: String
    public let info: MediaInfo
    public private(set) var stats = DecodeStats()

    private var format: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private let stream: UnsafeMutablePointer<AVStream>
    private let streamIndex: Int32
    private let timeBase: Double
    private let startPTS: Int64
    private let nominalFrameDuration: Double
    private let timeout: Double
    /// The stated duration is the video's own (not stretched by a longer audio track).
    private let durationIsVideoOnly: Bool
    private let deadline = InterruptDeadline()
    private var lastTime = -Double.infinity
    private var lastSize: (Int32, Int32)?
    private var inputEnded = false
    private var decoderDrained = false
    /// Frames before this media time are decoded but not returned (after a seek to a non-keyframe time).
    private var discardBefore: Double?

    /// Opens `source` (a path or any URL libavformat understands) and its best video stream.
    /// Throws a typed `MediaError` naming the source and why it cannot be decoded.
    public init(_ source: String, options: DecoderOptions = DecoderOptions()) throws(MediaError) {
        _ = FF.configureLogging
        self.source = source
        self.timeout = options.timeout
        let isLocal = VideoDecoder.isLocalPath(source)
        if isLocal { try VideoDecoder.checkLocalFile(source) }

        // Everything FFmpeg allocates below is freed by `deinit` (or `close`) whatever path we leave by.
        var fmt = avformat_alloc_context()
        guard fmt != nil else { throw MediaError(.io, source: source, operation: "open", reason: "out of memory") }
        fmt!.pointee.interrupt_callback = AVIOInterruptCB(
            callback: interruptCallback, opaque: Unmanaged.passUnretained(deadline).toOpaque())
        var dict: OpaquePointer? = nil
        for (key, value) in options.formatOptions { av_dict_set(&dict, key, value, 0) }
        if !isLocal {
            // Socket-level timeouts where the protocol has them (microseconds); the interrupt deadline covers the rest.
            let micros = String(Int(options.timeout * 1e6))
            if options.formatOptions["rw_timeout"] == nil { av_dict_set(&dict, "rw_timeout", micros, 0) }
        }
        deadline.arm(seconds: options.timeout)
        _ = FF.takeLoggedError()
        let openStatus = avformat_open_input(&fmt, source, nil, &dict)
        av_dict_free(&dict)
        guard openStatus >= 0, let fmt else {
            deadline.disarm()
            if let logged = FF.takeLoggedError(), let match = logged.firstMatch(of: /size (\d+)x(\d+) is invalid/) {
                throw MediaError(.tooLarge, source: source, operation: "open",
                                 reason: Self.tooLargeReason(width: String(match.1), height: String(match.2)),
                                 ffmpegMessage: logged.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            throw VideoDecoder.openError(source, status: openStatus, isLocal: isLocal, timedOut: false)
        }
        format = fmt
        let infoStatus = avformat_find_stream_info(fmt, nil)
        deadline.disarm()
        if infoStatus < 0 {
            avformat_close_input(&format)
            throw MediaError(.notAVideo, source: source, operation: "read stream information",
                             reason: "the container's streams could not be analysed",
                             ffmpegMessage: FF.message(infoStatus))
        }

        var decoder: UnsafePointer<AVCodec>? = nil
        let best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0)
        if best < 0 {
            let hasVideo = (0..<Int(fmt.pointee.nb_streams)).contains {
                fmt.pointee.streams[$0]!.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_VIDEO
            }
            let containerName = String(cString: fmt.pointee.iformat.pointee.name)
            avformat_close_input(&format)
            if best == FF.decoderNotFound || hasVideo {
                throw MediaError(.unsupportedCodec, source: source, operation: "decode",
                                 reason: "no decoder in this FFmpeg build for its video codec",
                                 ffmpegMessage: FF.message(best))
            }
            throw MediaError(.noVideoStream, source: source, operation: "decode",
                             reason: "the \(containerName) container holds no video stream",
                             ffmpegMessage: FF.message(best))
        }
        streamIndex = best
        stream = fmt.pointee.streams[Int(best)]!
        let par = stream.pointee.codecpar!
        guard let decoder else {
            avformat_close_input(&format)
            throw MediaError(.unsupportedCodec, source: source, operation: "decode", reason: "no decoder found")
        }
        let containerName = String(cString: fmt.pointee.iformat.pointee.name)
        if !options.stillImages, MediaInfo.isStillImageContainer(containerName) {
            let codecName = String(cString: avcodec_get_name(par.pointee.codec_id)).uppercased()
            avformat_close_input(&format)
            throw MediaError(.notAVideo, source: source, operation: "open",
                             reason: "it is a still image (\(codecName)), not a video")
        }
        let (width, height) = (Int(par.pointee.width), Int(par.pointee.height))
        if MediaInfo.isStillImageContainer(containerName), width <= 0 || height <= 0 {
            // FFmpeg picks its image reader by file name; a file that is not a picture then has no size.
            avformat_close_input(&format)
            throw MediaError(.notAVideo, source: source, operation: "open",
                             reason: "it is not a picture: FFmpeg's \(containerName) reader found no image in it")
        }
        if width > Self.maxFrameSide || height > Self.maxFrameSide || width * height > Self.maxFramePixels {
            avformat_close_input(&format)
            throw MediaError(.tooLarge, source: source, operation: "open",
                             reason: Self.tooLargeReason(width: "\(width)", height: "\(height)"))
        }

        codec = avcodec_alloc_context3(decoder)
        guard let codec, avcodec_parameters_to_context(codec, par) >= 0 else {
            avformat_close_input(&format)
            throw MediaError(.io, source: source, operation: "open decoder", reason: "cannot allocate decoder context")
        }
        codec.pointee.thread_count = Int32(max(0, options.threads))
        codec.pointee.thread_type = options.frameThreading ? (FF_THREAD_FRAME | FF_THREAD_SLICE) : FF_THREAD_SLICE
        codec.pointee.pkt_timebase = stream.pointee.time_base
        let codecOpen = avcodec_open2(codec, decoder, nil)
        if codecOpen < 0 {
            avcodec_free_context(&self.codec)
            avformat_close_input(&format)
            throw MediaError(.unsupportedCodec, source: source, operation: "open decoder",
                             reason: "the \(String(cString: decoder.pointee.name)) decoder refused this stream",
                             ffmpegMessage: FF.message(codecOpen))
        }
        packet = av_packet_alloc()
        frame = av_frame_alloc()

        timeBase = FF.seconds(stream.pointee.time_base)
        startPTS = stream.pointee.start_time != FF.noPTS ? stream.pointee.start_time : 0
        let avgRate = stream.pointee.avg_frame_rate.den != 0 ? stream.pointee.avg_frame_rate : stream.pointee.r_frame_rate
        let fps = avgRate.den != 0 && avgRate.num > 0 ? FF.seconds(avgRate) : nil
        nominalFrameDuration = fps.map { 1 / $0 } ?? 0.04

        var duration: Double? = nil
        if stream.pointee.duration != FF.noPTS, stream.pointee.duration > 0 {
            duration = Double(stream.pointee.duration) * timeBase
            durationIsVideoOnly = true
        } else if fmt.pointee.duration != FF.noPTS, fmt.pointee.duration > 0 {
            duration = Double(fmt.pointee.duration) / Double(AV_TIME_BASE)
            durationIsVideoOnly = fmt.pointee.nb_streams == 1
        } else {
            durationIsVideoOnly = false
        }
        let pixFmt = AVPixelFormat(par.pointee.format)
        let pixName = av_get_pix_fmt_name(pixFmt).map { String(cString: $0) } ?? "unknown"
        let fullRange = par.pointee.color_range == AVCOL_RANGE_JPEG || pixName.hasPrefix("yuvj")
        let limited = par.pointee.color_range == AVCOL_RANGE_MPEG
        info = MediaInfo(
            source: source,
            container: String(cString: fmt.pointee.iformat.pointee.name),
            codec: String(cString: avcodec_get_name(par.pointee.codec_id)),
            streamIndex: Int(best),
            width: Int(par.pointee.width), height: Int(par.pointee.height),
            rotation: VideoDecoder.rotation(of: stream),
            pixelFormat: pixName,
            fps: fps,
            duration: duration,
            statedFrameCount: stream.pointee.nb_frames > 0 ? Int(stream.pointee.nb_frames) : nil,
            bitRate: par.pointee.bit_rate > 0 ? Int(par.pointee.bit_rate)
                : (fmt.pointee.bit_rate > 0 ? Int(fmt.pointee.bit_rate) : nil),
            colorRange: fullRange ? "full" : (limited ? "limited" : "unknown"))
    }

    deinit { close() }

    /// Releases FFmpeg resources early (also done on deinit). Later calls to `nextFrame` return nil.
    public func close() {
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    /// The next frame in presentation order, or nil at the end of the stream. Corrupt packets are skipped and
    /// counted in `stats`; a read that fails or times out ends the stream: for local files that is recorded as
    /// truncation in `stats`, for network sources it throws a `.network` error (the caller reconnects).
    public func nextFrame() throws(MediaError) -> DecodedFrame? {
        guard let codec, let frame, let packet, let format else { return nil }
        while true {
            let received = avcodec_receive_frame(codec, frame)
            if received >= 0 {
                if let decoded = takeFrame(frame) { return decoded }
                continue
            }
            if received == FF.eof {
                if !decoderDrained { checkCompleteness() }
                decoderDrained = true
                return nil
            }
            if received != FF.again {
                // A damaged picture: count it and keep going with the next one.
                stats.skippedPackets += 1
                if inputEnded { continue }
            }
            if inputEnded { return nil }

            deadline.arm(seconds: timeout)
            let read = av_read_frame(format, packet)
            deadline.disarm()
            if read < 0 {
                try endOfInput(status: read)
                avcodec_send_packet(codec, nil)  // flush: the decoder now returns its delayed frames
                continue
            }
            defer { av_packet_unref(packet) }
            guard packet.pointee.stream_index == streamIndex else { continue }
            stats.packetsRead += 1
            if packet.pointee.flags & AV_PKT_FLAG_CORRUPT != 0 { stats.corruptFrames += 1 }
            let sent = avcodec_send_packet(codec, packet)
            if sent < 0 && sent != FF.again {
                stats.skippedPackets += 1
            }
        }
    }

    /// Seeks so that the next frames returned start at (or just after) `seconds`. Uses the container's index
    /// (to the keyframe before) and decodes forward, discarding frames before the target.
    public func seek(to seconds: Double) throws(MediaError) {
        guard let format, let codec else { return }
        let target = startPTS + Int64((seconds / timeBase).rounded(.down))
        deadline.arm(seconds: timeout)
        let status = av_seek_frame(format, streamIndex, target, AVSEEK_FLAG_BACKWARD)
        deadline.disarm()
        if status < 0 {
            // Not seekable (pipes, some live streams): fall back to decoding from here and discarding.
            discardBefore = seconds
            return
        }
        avcodec_flush_buffers(codec)
        inputEnded = false
        decoderDrained = false
        lastTime = -.infinity
        discardBefore = seconds
    }

    /// Reads the rest of the input without decoding it, then checks what was read against what the container
    /// states (frame count, duration), as `nextFrame` does at the end: a quick completeness check of a local file
    /// that needs no pictures. Returns the counters; `truncated` and `readError` say whether the file is complete.
    public func scanToEnd() -> DecodeStats {
        guard let format, let packet else { return stats }
        var lastPacketEnd = -Double.infinity
        while !inputEnded {
            deadline.arm(seconds: timeout)
            let read = av_read_frame(format, packet)
            deadline.disarm()
            if read < 0 {
                do { try endOfInput(status: read) } catch { stats.readError = error.summary }
                break
            }
            if packet.pointee.stream_index == streamIndex {
                stats.packetsRead += 1
                let pts = packet.pointee.pts != FF.noPTS ? packet.pointee.pts : packet.pointee.dts
                if pts != FF.noPTS {
                    lastPacketEnd = max(lastPacketEnd, Double(pts - startPTS) * timeBase)
                }
            }
            av_packet_unref(packet)
        }
        if !decoderDrained {
            // The completeness check compares the last frame time; here the last packet's time stands in for it.
            lastTime = max(lastTime, lastPacketEnd)
            checkCompleteness()
            decoderDrained = true
        }
        return stats
    }

    // MARK: - Internals

    private func takeFrame(_ frame: UnsafeMutablePointer<AVFrame>) -> DecodedFrame? {
        stats.framesDecoded += 1
        if frame.pointee.decode_error_flags != 0 || frame.pointee.flags & AV_FRAME_FLAG_CORRUPT != 0 {
            stats.corruptFrames += 1
        }
        let size = (frame.pointee.width, frame.pointee.height)
        if let lastSize, lastSize != size { stats.resolutionChanges += 1 }
        lastSize = size

        let pts = frame.pointee.best_effort_timestamp
        var time = pts != FF.noPTS ? Double(pts - startPTS) * timeBase : lastTime + nominalFrameDuration
        if pts == FF.noPTS || time <= lastTime {
            if lastTime.isFinite { time = lastTime + (pts == FF.noPTS ? nominalFrameDuration : 1e-6) }
            stats.repairedTimestamps += 1
        }
        lastTime = time
        if let discardBefore, time < discardBefore - 1e-6 {
            av_frame_unref(frame)
            return nil
        }
        discardBefore = nil
        guard let owned = av_frame_alloc() else { av_frame_unref(frame); return nil }
        av_frame_move_ref(owned, frame)
        return DecodedFrame(taking: owned, time: time, index: stats.framesDecoded - 1, rotation: info.rotation)
    }

    private func endOfInput(status: Int32) throws(MediaError) {
        inputEnded = true
        let ioError = format?.pointee.pb.map { $0.pointee.error } ?? 0
        if status == FF.eof && ioError == 0 {
            // A clean end. Containers that state a frame count let us notice files cut short.
            return
        }
        let message = FF.message(status != FF.eof ? status : ioError)
        if !VideoDecoder.isLocalPath(source) && status != FF.eof && status != FF.invalidData {
            throw MediaError(.network, source: source, operation: "read", reason: "the stream failed or stalled",
                             stream: Int(streamIndex), mediaTime: lastTime.isFinite ? lastTime : nil,
                             ffmpegMessage: message)
        }
        stats.truncated = true
        stats.readError = message
    }

    /// After a clean end of a local file: did the stream deliver what its container promised?
    private func checkCompleteness() {
        guard VideoDecoder.isLocalPath(source), !stats.truncated else { return }
        if let stated = info.statedFrameCount, stats.packetsRead < stated {
            stats.truncated = true
            stats.readError = "stream ended after \(stats.packetsRead) of \(stated) packets"
        } else if durationIsVideoOnly, let duration = info.duration, lastTime.isFinite,
                  lastTime + nominalFrameDuration < duration - max(1, 0.05 * duration) {
            // Containers without a frame count (Matroska, MPEG-TS) still state a duration.
            stats.truncated = true
            stats.readError = String(format: "stream ended at %.3f s of a stated %.3f s", lastTime, duration)
        }
    }

    static func tooLargeReason(width: String, height: String) -> String {
        "its header states frames of \(width)×\(height) pixels, beyond the limit of \(maxFrameSide) pixels a side "
            + "and \(maxFramePixels / 1_000_000) megapixels (a damaged or crafted header)"
    }

    static func isLocalPath(_ source: String) -> Bool {
        if source.hasPrefix("file:") { return true }
        return !source.contains("://")
    }

    /// Checks a local path before FFmpeg sees it, so the common mistakes get precise errors.
    static func checkLocalFile(_ source: String) throws(MediaError) {
        let path = source.hasPrefix("file:") ? String(source.dropFirst(5)) : source
        var st = stat()
        if stat(path, &st) != 0 {
            let err = errno
            if err == EACCES {
                throw MediaError(.permissionDenied, source: source, operation: "open",
                                 reason: "permission denied on a parent directory")
            }
            throw MediaError(.notFound, source: source, operation: "open", reason: "no such file")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw MediaError(.isDirectory, source: source, operation: "open", reason: "it is a directory, not a file")
        }
        if access(path, R_OK) != 0 {
            throw MediaError(.permissionDenied, source: source, operation: "open",
                             reason: "permission denied (the file is not readable by this user)")
        }
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 {
            throw MediaError(.emptyFile, source: source, operation: "open", reason: "the file is empty (0 bytes)")
        }
    }

    static func openError(_ source: String, status: Int32, isLocal: Bool, timedOut: Bool) -> MediaError {
        let message = FF.message(status)
        if isLocal {
            switch -status {
            case ENOENT: return MediaError(.notFound, source: source, operation: "open", reason: "no such file",
                                           ffmpegMessage: message)
            case EACCES: return MediaError(.permissionDenied, source: source, operation: "open",
                                           reason: "permission denied", ffmpegMessage: message)
            default: break
            }
            if let recognised = recognisedContainer(source) {
                return MediaError(.truncated, source: source, operation: "open",
                                  reason: "looks like \(recognised) but its header or index is incomplete "
                                      + "(truncated or damaged file)", ffmpegMessage: message)
            }
            return MediaError(.notAVideo, source: source, operation: "open",
                              reason: "not a recognised video container", ffmpegMessage: message)
        }
        let reason = status == FF.exit ? "no answer within the timeout" : "the source could not be reached"
        return MediaError(.network, source: source, operation: "open", reason: reason, ffmpegMessage: message)
    }

    /// FFmpeg's guess at the container from the first bytes of a file, when it can make one.
    static func recognisedContainer(_ source: String) -> String? {
        let path = source.hasPrefix("file:") ? String(source.dropFirst(5)) : source
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4096), head.count >= 16 else { return nil }
        var padded = [UInt8](head) + [UInt8](repeating: 0, count: Int(AVPROBE_PADDING_SIZE))
        return padded.withUnsafeMutableBufferPointer { buffer -> String? in
            var probe = AVProbeData()
            probe.buf = buffer.baseAddress
            probe.buf_size = Int32(head.count)
            var score: Int32 = 0
            guard let fmt = av_probe_input_format2(&probe, 1, &score), score >= AVPROBE_SCORE_EXTENSION else {
                return nil
            }
            return String(cString: fmt.pointee.name)
        }
    }

    /// Clockwise display rotation from the stream's display matrix, normalised to 0/90/180/270.
    static func rotation(of stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else {
            return 0
        }
        let degrees = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        guard degrees.isFinite else { return 0 }
        // av_display_rotation_get is counter-clockwise; display needs the clockwise turn.
        let clockwise = Int((-degrees).rounded())
        let normalised = ((clockwise % 360) + 360) % 360
        return (normalised + 45) / 90 * 90 % 360
    }
}
