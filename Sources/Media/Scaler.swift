// Converts decoded frames to RGB24 or gray images of a target size with swscale: colour range and matrix from
// the frame, display rotation applied, resize by stretch / shorter-side centre crop / letterbox.
import CFFmpeg

public final class Scaler {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    public let mode: ResizeMode
    /// Value written into letterbox padding (every channel).
    public let fill: UInt8
    /// Turn pictures upright using the stream's display matrix.
    public let autorotate: Bool

    private var context: OpaquePointer?
    /// Colour setup last given to `context`: setting it rebuilds swscale's tables, so only on change.
    private var colourSetup: (context: OpaquePointer, space: Int32, fullRange: Bool)?
    private var scratch: [UInt8] = []

    public init(width: Int, height: Int, format: PixelFormat = .rgb24, mode: ResizeMode = .stretch,
                fill: UInt8 = 0, autorotate: Bool = true) throws(MediaError) {
        guard width > 0, height > 0, width <= 16384, height <= 16384 else {
            throw MediaError(.invalidArgument, source: "\(width)x\(height)", operation: "scale",
                             reason: "target size must be between 1x1 and 16384x16384")
        }
        self.width = width
        self.height = height
        self.format = format
        self.mode = mode
        self.fill = fill
        self.autorotate = autorotate
    }

    deinit { sws_freeContext(context) }

    /// The frame as an upright image of the target size; `transform` maps its pixels to the displayed source.
    public func convert(_ frame: DecodedFrame) throws(MediaError) -> Image {
        let rotation = autorotate ? frame.rotation : 0
        let srcW = frame.width, srcH = frame.height
        let (displayW, displayH) = rotation % 180 == 0 ? (srcW, srcH) : (srcH, srcW)
        let fit = ResizeTransform.fitting(sourceWidth: displayW, sourceHeight: displayH,
                                          width: width, height: height, mode: mode)
        // swscale works in stored orientation: scale to the rotated-back size, then turn.
        let (scaleW, scaleH) = rotation % 180 == 0 ? (fit.scaledWidth, fit.scaledHeight)
                                                   : (fit.scaledHeight, fit.scaledWidth)
        let channels = format.channels
        var pixels: [UInt8]
        if rotation == 0 && scaleW == width && scaleH == height {
            pixels = [UInt8](repeating: 0, count: width * height * channels)  // straight into the output
            try scale(frame, toWidth: scaleW, height: scaleH, into: &pixels, time: frame.time)
        } else {
            if scratch.count != scaleW * scaleH * channels { scratch = [UInt8](repeating: 0, count: scaleW * scaleH * channels) }
            try scale(frame, toWidth: scaleW, height: scaleH, into: &scratch, time: frame.time)
            pixels = [UInt8](repeating: fill, count: width * height * channels)
            Scaler.place(scratch, width: scaleW, height: scaleH, channels: channels, rotation: rotation,
                         into: &pixels, targetWidth: width, targetHeight: height,
                         offsetX: Int(fit.transform.offsetX), offsetY: Int(fit.transform.offsetY))
        }
        return Image(width: width, height: height, format: format, pixels: pixels, time: frame.time,
                     transform: fit.transform)
    }

    private func scale(_ frame: DecodedFrame, toWidth dstW: Int, height dstH: Int, into buffer: inout [UInt8],
                       time: Double) throws(MediaError) {
        let f = frame.avFrame
        var srcFormat = AVPixelFormat(f.pointee.format)
        var fullRange = f.pointee.color_range == AVCOL_RANGE_JPEG
        // The deprecated JPEG-range formats make swscale warn per frame: use the plain one with full range.
        switch srcFormat {
        case AV_PIX_FMT_YUVJ420P: srcFormat = AV_PIX_FMT_YUV420P; fullRange = true
        case AV_PIX_FMT_YUVJ422P: srcFormat = AV_PIX_FMT_YUV422P; fullRange = true
        case AV_PIX_FMT_YUVJ444P: srcFormat = AV_PIX_FMT_YUV444P; fullRange = true
        case AV_PIX_FMT_YUVJ440P: srcFormat = AV_PIX_FMT_YUV440P; fullRange = true
        case AV_PIX_FMT_YUVJ411P: srcFormat = AV_PIX_FMT_YUV411P; fullRange = true
        default: break
        }
        let dstFormat = format == .rgb24 ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_GRAY8
        context = sws_getCachedContext(context, f.pointee.width, f.pointee.height, srcFormat,
                                       Int32(dstW), Int32(dstH), dstFormat, SWS_BILINEAR, nil, nil, nil)
        guard let context else {
            throw MediaError(.unsupportedCodec, source: "frame \(frame.index)", operation: "convert",
                             reason: "swscale cannot convert \(frame.pixelFormat) \(frame.width)x\(frame.height)",
                             mediaTime: time)
        }
        // Colour matrix from the frame (BT.601 when unspecified, as FFmpeg does); RGB output is full range.
        let space = f.pointee.colorspace == AVCOL_SPC_UNSPECIFIED ? SWS_CS_DEFAULT : Int32(f.pointee.colorspace.rawValue)
        if colourSetup == nil || colourSetup! != (context, space, fullRange) {
            _ = sws_setColorspaceDetails(context, sws_getCoefficients(space), fullRange ? 1 : 0,
                                         sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16)
            colourSetup = (context, space, fullRange)
        }
        let lineSize = Int32(dstW * format.channels)
        let rows = buffer.withUnsafeMutableBufferPointer { dst -> Int32 in
            var planes: [UnsafeMutablePointer<UInt8>?] = [dst.baseAddress, nil, nil, nil]
            var strides: [Int32] = [lineSize, 0, 0, 0]
            return withUnsafePointer(to: &f.pointee.data) { dataTuple in
                dataTuple.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { data in
                    withUnsafePointer(to: &f.pointee.linesize) { lineTuple in
                        lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                            sws_scale(context, data, lines, 0, f.pointee.height, &planes, &strides)
                        }
                    }
                }
            }
        }
        if rows <= 0 {
            throw MediaError(.corrupt, source: "frame \(frame.index)", operation: "convert",
                             reason: "swscale produced no rows", mediaTime: time)
        }
    }

    /// Copies a scaled, stored-orientation picture into the target, turned clockwise by `rotation` and placed
    /// with its top-left at (offsetX, offsetY) (negative offsets crop, positive ones pad).
    static func place(_ src: [UInt8], width srcW: Int, height srcH: Int, channels: Int, rotation: Int,
                      into dst: inout [UInt8], targetWidth: Int, targetHeight: Int, offsetX: Int, offsetY: Int) {
        let (rotW, rotH) = rotation % 180 == 0 ? (srcW, srcH) : (srcH, srcW)
        let x0 = max(0, offsetX), x1 = min(targetWidth, offsetX + rotW)
        let y0 = max(0, offsetY), y1 = min(targetHeight, offsetY + rotH)
        guard x0 < x1, y0 < y1 else { return }
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                for ty in y0..<y1 {
                    let ry = ty - offsetY  // row in the rotated picture
                    for tx in x0..<x1 {
                        let rx = tx - offsetX
                        let (sx, sy): (Int, Int)
                        switch rotation {
                        case 90: (sx, sy) = (ry, srcH - 1 - rx)
                        case 180: (sx, sy) = (srcW - 1 - rx, srcH - 1 - ry)
                        case 270: (sx, sy) = (srcW - 1 - ry, rx)
                        default: (sx, sy) = (rx, ry)
                        }
                        let si = (sy * srcW + sx) * channels, di = (ty * targetWidth + tx) * channels
                        for c in 0..<channels { d[di + c] = s[si + c] }
                    }
                }
            }
        }
    }
}
