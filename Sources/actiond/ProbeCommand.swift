// `actiond probe`: what a file or stream holds, and with --count how many frames actually decode.
import ArgumentParser
import Foundation
import Media

struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show container, codec, size, fps, duration and rotation of a video file or URL.",
        discussion: """
            Exits 0 when the source opens (and, with --count, decodes without damage), 1 when it cannot be \
            opened or decoding met damage (the counts are still printed), 2 on bad arguments.
            """)

    @Argument(help: "A file path or any URL FFmpeg opens (rtsp://, http://, udp://, tcp://, ...).")
    var source: String

    @Flag(help: "Decode every frame and report the decoded frame count and damage found.")
    var count = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Seconds to wait for a network source before giving up.")
    var timeout: Double = 10

    @Option(help: "Decoder threads (0 = one per core).")
    var threads: Int = 0

    struct Report: Encodable {
        var info: MediaInfo
        var displayWidth: Int
        var displayHeight: Int
        /// Read by one of FFmpeg's still-image demuxers: a picture, whatever the file name says.
        var stillImage: Bool
        var decodedFrames: Int?
        var firstFrameTime: Double?
        var lastFrameTime: Double?
        var stats: DecodeStats?
        var errors: [String]
    }

    func run() async throws {
        let decoder = try VideoDecoder(source, options: DecoderOptions(threads: threads, timeout: timeout))
        let info = decoder.info
        var report = Report(info: info, displayWidth: info.displayWidth, displayHeight: info.displayHeight,
                            stillImage: info.isStillImage, errors: [])
        var failure: MediaError?
        if count {
            var decoded = 0
            do {
                while let frame = try decoder.nextFrame() {
                    if decoded == 0 { report.firstFrameTime = frame.time }
                    report.lastFrameTime = frame.time
                    decoded += 1
                }
            } catch {
                failure = error
            }
            report.decodedFrames = decoded
            report.stats = decoder.stats
            let stats = decoder.stats
            if failure == nil && !stats.isClean {
                let reason = stats.truncated
                    ? "the file ends early (\(stats.readError ?? "truncated")); \(decoded) frames decoded"
                    : "\(stats.skippedPackets) packets could not be decoded, \(stats.corruptFrames) frames damaged"
                failure = MediaError(stats.truncated ? .truncated : .corrupt, source: source, operation: "decode",
                                     reason: reason, stream: info.streamIndex, skippedPackets: stats.skippedPackets)
            }
        }
        if let failure { report.errors.append(failure.summary) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printText(report)
        }
        if let failure { throw failure }
    }

    private func printText(_ r: Report) {
        let i = r.info
        func row(_ key: String, _ value: String) { print(key.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        row("source:", i.source)
        row("container:", i.container + (r.stillImage ? " (a still image, not a video)" : ""))
        row("codec:", "\(i.codec) (\(i.pixelFormat), \(i.colorRange) range)")
        var size = "\(i.width)x\(i.height)"
        if i.rotation != 0 { size += " (rotation \(i.rotation)°, displayed \(r.displayWidth)x\(r.displayHeight))" }
        row("size:", size)
        row("fps:", i.fps.map { String(format: "%.3f", $0) } ?? "unknown")
        row("duration:", i.duration.map { String(format: "%.3f s", $0) } ?? "unknown")
        row("rotation:", "\(i.rotation)")
        if let stated = i.statedFrameCount { row("frames:", "\(stated) (stated by the container)") }
        if let bitRate = i.bitRate { row("bit rate:", "\(bitRate / 1000) kb/s") }
        if let decoded = r.decodedFrames, let s = r.stats {
            row("decoded:", "\(decoded) frames" + (r.firstFrameTime.map { String(format: ", t=%.3f", $0) } ?? "")
                + (r.lastFrameTime.map { String(format: "…%.3f s", $0) } ?? ""))
            row("damage:", s.isClean ? "none"
                : "\(s.skippedPackets) skipped packets, \(s.corruptFrames) damaged frames"
                    + (s.truncated ? ", truncated" : ""))
        }
        row("errors:", r.errors.isEmpty ? "none" : r.errors.joined(separator: "; "))
    }
}
