// Encodes RGB or gray images to a video file: H.264 (libx264) by default with MPEG-4 Part 2 as the fallback
// when libx264 is missing; MPEG-4, MJPEG and VP9 on request. The container follows the file extension.
import CFFmpeg
import Glibc

public enum VideoCodec: String, Sendable, CaseIterable, Codable {
    case h264, mpeg4, mjpeg, vp9
}

public struct EncoderSettings: Sendable {
    public var width: Int
    public var height: Int
    public var frameRate: FrameRate
    public var codec: VideoCodec
    /// Constant-quality setting: CRF for H.264/VP9 (lower is better, 23 is x264's default), q-scale 2…31 for
    /// MPEG-4/MJPEG.
    public var quality: Int
    /// Keyframe interval in frames.
    public var gopSize: Int
    /// B-frames between references (H.264/MPEG-4); B-frames make decode order differ from display order.
    public var bFrames: Int
    /// Clockwise display rotation written as the stream's display matrix (0, 90, 180, 270).
    public var rotation: Int
    /// Frames carry their own times (`append(_:time:)`): a millisecond time base instead of 1/fps.
    public var variableFrameRate: Bool

    public init(width: Int, height: Int, frameRate: FrameRate = FrameRate(25), codec: VideoCodec = .h264,
                quality: Int? = nil, gopSize: Int = 50, bFrames: Int = 2, rotation: Int = 0,
                variableFrameRate: Bool = false) {
        self.width = width
        self.height = height
        self.frameRate = frameRate
        self.codec = codec
        self.quality = quality ?? (codec == .h264 || codec == .vp9 ? 23 : 4)
        self.gopSize = gopSize
        self.bFrames = bFrames
        self.rotation = rotation
        self.variableFrameRate = variableFrameRate
    }
}

public final class VideoEncoder {
    public let path: String
    public let settings: EncoderSettings
    /// The encoder actually used (e.g. "libx264", or "mpeg4" after a fallback).
    public private(set) var encoderName: String
    public private(set) var framesWritten = 0

    private var output: UnsafeMutablePointer<AVFormatContext>?
    private var codec: UnsafeMutablePointer<AVCodecContext>?
    private let stream: UnsafeMutablePointer<AVStream>
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var sws: OpaquePointer?
    private var lastPTS: Int64 = -1
    private var finished = false

    /// libx264's detected CPU flags without AVX-512 (bit 16 of X264_CPU_*), nil when the symbol is not found.
    /// x264 r3095's AVX-512 code reads memory it never wrote: with it, the same frames encoded to different
    /// bytes from run to run (even through the ffmpeg CLI, depending on MALLOC_PERTURB_); without it the output
    /// is byte-identical and as fast (AVX2 is the widest path x264 gains much from).
    static let x264CPUFlagsWithoutAVX512: UInt32? = {
        typealias Detect = @convention(c) () -> UInt32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "x264_cpu_detect") else { return nil }
        return unsafeBitCast(symbol, to: Detect.self)() & ~(UInt32(1) << 16)
    }()

    /// How encoders are found by name; replaced only by tests that simulate an FFmpeg build without libx264.
    nonisolated(unsafe) static var encoderLookup: (String) -> UnsafePointer<AVCodec>? = { avcodec_find_encoder_by_name($0) }

    public init(path: String, settings: EncoderSettings) throws(MediaError) {
        _ = FF.configureLogging
        self.path = path
        self.settings = settings
        guard settings.width > 0, settings.height > 0, settings.frameRate.value > 0 else {
            throw MediaError(.invalidArgument, source: path, operation: "encode",
                             reason: "size and frame rate must be positive")
        }
        var oc: UnsafeMutablePointer<AVFormatContext>? = nil
        let allocated = avformat_alloc_output_context2(&oc, nil, nil, path)
        guard allocated >= 0, let oc else {
            throw MediaError(.invalidArgument, source: path, operation: "encode",
                             reason: "no container format for this file extension (use .mp4, .mkv, .avi, .mov)",
                             ffmpegMessage: FF.message(allocated))
        }
        output = oc
        let (encoder, name) = VideoEncoder.findEncoder(settings.codec, lookup: VideoEncoder.encoderLookup)
        guard let encoder else {
            avformat_free_context(oc)
            output = nil
            throw MediaError(.encoder, source: path, operation: "encode",
                             reason: "this FFmpeg build has no \(settings.codec.rawValue) encoder")
        }
        encoderName = name
        guard let st = avformat_new_stream(oc, nil), let ctx = avcodec_alloc_context3(encoder) else {
            avformat_free_context(oc)
            output = nil
            throw MediaError(.encoder, source: path, operation: "encode", reason: "out of memory")
        }
        stream = st
        codec = ctx
        let isMJPEG = encoder.pointee.id == AV_CODEC_ID_MJPEG
        ctx.pointee.width = Int32(settings.width)
        ctx.pointee.height = Int32(settings.height)
        ctx.pointee.time_base = settings.variableFrameRate
            ? AVRational(num: 1, den: 1000)
            : AVRational(num: Int32(settings.frameRate.denominator), den: Int32(settings.frameRate.numerator))
        ctx.pointee.framerate = AVRational(num: Int32(settings.frameRate.numerator),
                                           den: Int32(settings.frameRate.denominator))
        ctx.pointee.pix_fmt = isMJPEG ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P
        ctx.pointee.color_range = isMJPEG ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG
        ctx.pointee.gop_size = Int32(settings.gopSize)
        // AVI stores no presentation times: B-frames there would shift every timestamp by the reorder delay.
        let isAVI = String(cString: oc.pointee.oformat.pointee.name) == "avi"
        let usesBFrames = (name == "libx264" || encoder.pointee.id == AV_CODEC_ID_MPEG4) && !isAVI
        ctx.pointee.max_b_frames = usesBFrames ? Int32(settings.bFrames) : 0
        ctx.pointee.thread_count = 0
        if oc.pointee.oformat.pointee.flags & AVFMT_GLOBALHEADER != 0 {
            ctx.pointee.flags |= AV_CODEC_FLAG_GLOBAL_HEADER
        }
        var opts: OpaquePointer? = nil
        switch name {
        case "libx264":
            av_dict_set(&opts, "crf", String(settings.quality), 0)
            av_dict_set(&opts, "preset", "veryfast", 0)
            if let cpu = VideoEncoder.x264CPUFlagsWithoutAVX512 {
                av_dict_set(&opts, "x264-params", "asm=\(cpu)", 0)
            }
        case "libvpx-vp9":
            av_dict_set(&opts, "crf", String(settings.quality), 0)
            av_dict_set(&opts, "b", "0", 0)
            av_dict_set(&opts, "deadline", "realtime", 0)
            av_dict_set(&opts, "cpu-used", "8", 0)
        default:
            ctx.pointee.flags |= AV_CODEC_FLAG_QSCALE
            ctx.pointee.global_quality = Int32(settings.quality) * FF_QP2LAMBDA
        }
        let opened = avcodec_open2(ctx, encoder, &opts)
        av_dict_free(&opts)
        if opened < 0 {
            avcodec_free_context(&codec)
            avformat_free_context(oc)
            output = nil
            throw MediaError(.encoder, source: path, operation: "encode",
                             reason: "the \(name) encoder refused these settings", ffmpegMessage: FF.message(opened))
        }
        avcodec_parameters_from_context(st.pointee.codecpar, ctx)
        st.pointee.time_base = ctx.pointee.time_base
        st.pointee.avg_frame_rate = ctx.pointee.framerate
        if settings.rotation % 360 != 0,
           let side = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * MemoryLayout<Int32>.size) {
            // av_display_rotation_get returns minus the angle given to _set; readers (and VideoDecoder) take
            // -get as the clockwise turn, so the clockwise rotation goes in as is (phones write -90 for portrait).
            side.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_set($0, Double(settings.rotation)) }
        }
        if oc.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 {
            let io = avio_open(&oc.pointee.pb, path, AVIO_FLAG_WRITE)
            if io < 0 {
                avcodec_free_context(&codec)
                avformat_free_context(oc)
                output = nil
                throw MediaError(io == -EACCES ? .permissionDenied : .io, source: path, operation: "create",
                                 reason: "cannot open the output file for writing", ffmpegMessage: FF.message(io))
            }
        }
        let header = avformat_write_header(oc, nil)
        if header < 0 {
            close()
            throw MediaError(.encoder, source: path, operation: "encode", reason: "cannot write the container header",
                             ffmpegMessage: FF.message(header))
        }
        frame = av_frame_alloc()
        packet = av_packet_alloc()
        guard let frame else { close(); throw MediaError(.encoder, source: path, operation: "encode", reason: "out of memory") }
        frame.pointee.format = ctx.pointee.pix_fmt.rawValue
        frame.pointee.width = ctx.pointee.width
        frame.pointee.height = ctx.pointee.height
        frame.pointee.color_range = ctx.pointee.color_range
        if av_frame_get_buffer(frame, 0) < 0 {
            close()
            throw MediaError(.encoder, source: path, operation: "encode", reason: "cannot allocate frame buffers")
        }
    }

    deinit { close() }

    /// Appends one picture. `time` (seconds) is required with `variableFrameRate`; otherwise frames are spaced
    /// 1/fps apart and `time`, if given, must not go backwards.
    public func append(_ image: Image, time: Double? = nil) throws(MediaError) {
        guard !finished, let codec, let frame else {
            throw MediaError(.encoder, source: path, operation: "encode", reason: "the encoder is already finished")
        }
        guard image.width == settings.width, image.height == settings.height else {
            throw MediaError(.invalidArgument, source: path, operation: "encode",
                             reason: "image is \(image.width)x\(image.height), encoder expects "
                                 + "\(settings.width)x\(settings.height)")
        }
        let pts: Int64
        if settings.variableFrameRate {
            guard let time else {
                throw MediaError(.invalidArgument, source: path, operation: "encode",
                                 reason: "variable-frame-rate encoding needs a time for every frame")
            }
            pts = Int64((time * 1000).rounded())
        } else {
            pts = time.map { Int64(($0 * settings.frameRate.value).rounded()) } ?? Int64(framesWritten)
        }
        guard pts > lastPTS else {
            throw MediaError(.invalidArgument, source: path, operation: "encode",
                             reason: "frame times must increase (got pts \(pts) after \(lastPTS))")
        }
        lastPTS = pts
        guard av_frame_make_writable(frame) >= 0 else {
            throw MediaError(.encoder, source: path, operation: "encode", reason: "cannot make the frame writable")
        }
        let srcFormat = image.format == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8
        let isJPEGRange = codec.pointee.color_range == AVCOL_RANGE_JPEG
        sws = sws_getCachedContext(sws, Int32(image.width), Int32(image.height), srcFormat, codec.pointee.width,
                                   codec.pointee.height, AV_PIX_FMT_YUV420P, SWS_BILINEAR, nil, nil, nil)
        guard let sws else {
            throw MediaError(.encoder, source: path, operation: "encode", reason: "cannot set up colour conversion")
        }
        let bt601 = sws_getCoefficients(SWS_CS_DEFAULT)
        _ = sws_setColorspaceDetails(sws, bt601, 1, bt601, isJPEGRange ? 1 : 0, 0, 1 << 16, 1 << 16)
        image.pixels.withUnsafeBufferPointer { src in
            var srcPlanes: [UnsafePointer<UInt8>?] = [src.baseAddress, nil, nil, nil]
            var srcStrides: [Int32] = [Int32(image.width * image.channels), 0, 0, 0]
            withUnsafeMutablePointer(to: &frame.pointee.data) { dataTuple in
                dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { data in
                    withUnsafePointer(to: &frame.pointee.linesize) { lineTuple in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            _ = sws_scale(sws, &srcPlanes, &srcStrides, 0, Int32(image.height), data, lines)
                        }
                    }
                }
            }
        }
        frame.pointee.pts = pts
        try send(frame)
        framesWritten += 1
    }

    /// Flushes delayed frames and writes the container trailer. The file is complete only after this.
    public func finish() throws(MediaError) {
        guard !finished else { return }
        finished = true
        defer { close() }
        try send(nil)
        if let output {
            let status = av_write_trailer(output)
            if status < 0 {
                throw MediaError(.encoder, source: path, operation: "finish", reason: "cannot write the trailer",
                                 ffmpegMessage: FF.message(status))
            }
        }
    }

    private func send(_ frame: UnsafeMutablePointer<AVFrame>?) throws(MediaError) {
        guard let codec, let packet, let output else { return }
        let sent = avcodec_send_frame(codec, frame)
        if sent < 0 {
            throw MediaError(.encoder, source: path, operation: "encode", reason: "the encoder rejected a frame",
                             ffmpegMessage: FF.message(sent))
        }
        while true {
            let received = avcodec_receive_packet(codec, packet)
            if received == FF.again || received == FF.eof { return }
            if received < 0 {
                throw MediaError(.encoder, source: path, operation: "encode", reason: "encoding failed",
                                 ffmpegMessage: FF.message(received))
            }
            av_packet_rescale_ts(packet, codec.pointee.time_base, stream.pointee.time_base)
            packet.pointee.stream_index = stream.pointee.index
            let written = av_interleaved_write_frame(output, packet)
            if written < 0 {
                throw MediaError(.io, source: path, operation: "write", reason: "cannot write to the output file",
                                 ffmpegMessage: FF.message(written))
            }
        }
    }

    private func close() {
        sws_freeContext(sws)
        sws = nil
        av_frame_free(&frame)
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        if let output {
            if output.pointee.oformat.pointee.flags & AVFMT_NOFILE == 0 { avio_closep(&output.pointee.pb) }
            avformat_free_context(output)
            self.output = nil
        }
    }

    /// The encoder for `codec`, falling back from libx264 to FFmpeg's native MPEG-4 encoder when it is missing.
    /// `lookup` finds an encoder by FFmpeg name (tests pass one that lacks libx264).
    static func findEncoder(
        _ codec: VideoCodec,
        lookup: (String) -> UnsafePointer<AVCodec>? = { avcodec_find_encoder_by_name($0) }
    ) -> (UnsafePointer<AVCodec>?, String) {
        switch codec {
        case .h264:
            if let x264 = lookup("libx264") { return (x264, "libx264") }
            return (lookup("mpeg4"), "mpeg4")
        case .mpeg4: return (lookup("mpeg4"), "mpeg4")
        case .mjpeg: return (lookup("mjpeg"), "mjpeg")
        case .vp9: return (lookup("libvpx-vp9"), "libvpx-vp9")
        }
    }
}

/// Encodes single images as PNG with FFmpeg's PNG encoder (so people can look at frames).
public enum PNGWriter {
    public static func encode(_ image: Image) throws(MediaError) -> [UInt8] {
        _ = FF.configureLogging
        guard let encoder = avcodec_find_encoder(AV_CODEC_ID_PNG), let ctx = avcodec_alloc_context3(encoder) else {
            throw MediaError(.encoder, source: "png", operation: "encode", reason: "no PNG encoder in this FFmpeg build")
        }
        var optionalCtx: UnsafeMutablePointer<AVCodecContext>? = ctx
        defer { avcodec_free_context(&optionalCtx) }
        ctx.pointee.width = Int32(image.width)
        ctx.pointee.height = Int32(image.height)
        ctx.pointee.pix_fmt = image.format == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8
        ctx.pointee.time_base = AVRational(num: 1, den: 1)
        let opened = avcodec_open2(ctx, encoder, nil)
        guard opened >= 0 else {
            throw MediaError(.encoder, source: "png", operation: "encode", reason: "cannot open the PNG encoder",
                             ffmpegMessage: FF.message(opened))
        }
        var frame = av_frame_alloc()
        var packet = av_packet_alloc()
        defer { av_frame_free(&frame); av_packet_free(&packet) }
        guard let frame, let packet else {
            throw MediaError(.encoder, source: "png", operation: "encode", reason: "out of memory")
        }
        frame.pointee.format = ctx.pointee.pix_fmt.rawValue
        frame.pointee.width = ctx.pointee.width
        frame.pointee.height = ctx.pointee.height
        guard av_frame_get_buffer(frame, 0) >= 0 else {
            throw MediaError(.encoder, source: "png", operation: "encode", reason: "cannot allocate a frame")
        }
        let rowBytes = image.width * image.channels
        let dstStride = Int(frame.pointee.linesize.0)
        image.pixels.withUnsafeBufferPointer { src in
            let dst = frame.pointee.data.0!
            for y in 0..<image.height {
                (dst + y * dstStride).update(from: src.baseAddress! + y * rowBytes, count: rowBytes)
            }
        }
        frame.pointee.pts = 0
        var bytes: [UInt8] = []
        for input in [frame, nil] as [UnsafeMutablePointer<AVFrame>?] {
            let sent = avcodec_send_frame(ctx, input)
            guard sent >= 0 else {
                throw MediaError(.encoder, source: "png", operation: "encode", reason: "PNG encoding failed",
                                 ffmpegMessage: FF.message(sent))
            }
            while avcodec_receive_packet(ctx, packet) >= 0 {
                bytes.append(contentsOf: UnsafeBufferPointer(start: packet.pointee.data, count: Int(packet.pointee.size)))
                av_packet_unref(packet)
            }
        }
        return bytes
    }
}
