// `actiond bench decode`: decode throughput, and decode + scale to 112×112 RGB (what a 3D CNN consumes).
import ArgumentParser
import Foundation
import Media
import TextFormat

struct BenchDecode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decoded frames per second of a file, alone and with scaling to 112x112 RGB; prints medians.")

    @Argument(help: "Video file.")
    var file: String

    @Option(help: "Decoder threads (0 = one per core).")
    var threads: Int = 0

    @Option(help: "Timed runs per measurement (the median is reported).")
    var runs: Int = 3

    @Flag(help: "Print one JSON object: {\"file\",\"threads\",\"frames\",\"decode_fps\",\"decode_scale_fps\"}.")
    var json = false

    @Flag(help: "Measure decoding only (decode_scale_fps is then 0): lets a caller time the decode work alone.")
    var decodeOnly = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be ≥ 1") }
        guard threads >= 0 else { throw ValidationError("--threads must be ≥ 0") }
    }

    func run() async throws {
        var decodeFPS: [Double] = [], scaleFPS: [Double] = []
        var frames = 0
        for _ in 0..<runs {
            let (n, seconds) = try measure(scale: false)
            frames = n
            decodeFPS.append(Double(n) / seconds)
            if !decodeOnly {
                let (m, scaledSeconds) = try measure(scale: true)
                scaleFPS.append(Double(m) / scaledSeconds)
            }
        }
        if json {
            print("{\"file\":\(jsonString(file)),\"threads\":\(threads),\"frames\":\(frames),"
                  + "\"decode_fps\":\(decimal(median(decodeFPS), digits: 1)),"
                  + "\"decode_scale_fps\":\(decimal(decodeOnly ? 0 : median(scaleFPS), digits: 1))}")
        } else {
            print("file: \(file)  frames: \(frames)  threads: \(threads == 0 ? "auto" : String(threads))  runs: \(runs)")
            print(String(format: "decode:                 %8.1f fps (median)", median(decodeFPS)))
            if !decodeOnly { print(String(format: "decode + 112x112 RGB:   %8.1f fps (median)", median(scaleFPS))) }
        }
    }

    private func measure(scale: Bool) throws -> (frames: Int, seconds: Double) {
        let started = DispatchTime.now()
        let decoder = try VideoDecoder(file, options: DecoderOptions(threads: threads))
        let scaler = try Scaler(width: 112, height: 112, format: .rgb24)
        var count = 0
        var checksum = 0
        while let frame = try decoder.nextFrame() {
            if scale { checksum &+= Int(try scaler.convert(frame).pixels[0]) }
            count += 1
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        if checksum == -1 { print("") }  // keeps the conversion observable to the optimiser
        return (count, elapsed)
    }
}
