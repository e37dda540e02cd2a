// `actiond bench synth`: rendered-world throughput per frame size: drawing alone, H.264 encoding alone (the
// reference: encoding the same frames already in memory), a whole clip, and a parallel batch; prints medians.
import ArgumentParser
import Dispatch
import Foundation
import Media
import Synth

struct BenchSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Frames/s and clips/s of `actiond synth` at several sizes; prints medians and ratios.")

    @Option(help: "Comma-separated frame sizes.")
    var sizes: String = "160x120,320x240,640x480"

    @Option(help: "Clips per measurement (4 s, 15 fps, 1 person: the synth defaults).")
    var clips: Int = 6

    @Option(help: "Timed runs per measurement (the median is reported).")
    var runs: Int = 3

    @Option(help: "Parallel clips in the batch measurement.")
    var jobs: Int = 2

    @Option(help: "People per clip (default 1; with --busy the most per clip, default 6).")
    var people: Int?

    @Flag(help: "Busy scenes (`actiond synth --busy`).")
    var busy = false

    func validate() throws {
        guard clips >= 1, runs >= 1, jobs >= 1, people ?? 1 >= 1 else {
            throw ValidationError("--clips, --runs, --jobs and --people must be at least 1")
        }
        for s in sizes.split(separator: ",") where Size(argument: String(s)) == nil {
            throw ValidationError("bad size '\(s)' in --sizes (expected WxH)")
        }
    }

    func run() throws {
        let people = self.people ?? (busy ? 6 : 1)
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("actiond-bench-synth-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        print("clips: \(clips) x 4 s at 15 fps, people: \(busy ? "busy, 1...\(people)" : "\(people)"), runs: \(runs), "
              + "batch jobs: \(jobs), cores: \(ProcessInfo.processInfo.activeProcessorCount)")
        print("          ----------------- wall ------------------   ------- per CPU-second -------")
        print("size          draw   encode     clip    batch  clips/s       draw   encode     clip    batch")
        for text in sizes.split(separator: ",") {
            let size = Size(argument: String(text))!
            let options = SynthOptions(width: size.width, height: size.height, fps: 15, seconds: 4, people: people,
                                       quality: 23, busy: busy)
            let frames = options.frameCount * clips
            var draw: [Double] = [], encode: [Double] = [], single: [Double] = [], batch: [Double] = []
            var drawCPU: [Double] = [], encodeCPU: [Double] = [], singleCPU: [Double] = [], batchCPU: [Double] = []
            for run in 0..<runs {
                let seed = UInt64(1000 + run)
                // Drawing only, keeping the frames for the encoding reference.
                var pictures: [[UInt8]] = []
                var t = Self.seconds(cpu: &drawCPU) {
                    for clip in 0..<clips {
                        let scene = ClipScene(options: options, seed: seed, clip: clip)
                        for i in 0..<scene.frameCount { pictures.append(scene.renderFrame(i).pixels) }
                    }
                }
                draw.append(Double(frames) / t)
                t = try Self.seconds(cpu: &encodeCPU) {
                    for clip in 0..<clips {
                        let encoder = try VideoEncoder(path: directory + "/ref\(clip).mp4", settings: EncoderSettings(
                            width: size.width, height: size.height, frameRate: FrameRate(15), quality: 23))
                        for i in 0..<options.frameCount {
                            try encoder.append(Image(width: size.width, height: size.height, format: .rgb24,
                                                     pixels: pictures[clip * options.frameCount + i]))
                        }
                        try encoder.finish()
                    }
                }
                encode.append(Double(frames) / t)
                t = try Self.seconds(cpu: &singleCPU) {
                    for clip in 0..<clips {
                        try Synth.renderClip(options: options, seed: seed, clip: clip, directory: directory)
                    }
                }
                single.append(Double(frames) / t)
                t = try Self.seconds(cpu: &batchCPU) {
                    try Synth.renderClips(options: options, seed: seed, clips: 0..<clips, directory: directory,
                                          jobs: jobs)
                }
                batch.append(Double(clips) / t)
            }
            // Frames per CPU-second: what the work costs regardless of what else runs on the machine.
            let perCPU = { (cpu: [Double]) in Double(frames) / median(cpu) }
            let label = size.description.padding(toLength: 9, withPad: " ", startingAt: 0)
            print(label + String(format: " %8.0f %8.0f %8.0f %8.0f %8.2f   %8.0f %8.0f %8.0f %8.0f",
                                 median(draw), median(encode), median(single),
                                 median(batch) * Double(options.frameCount), median(batch),
                                 perCPU(drawCPU), perCPU(encodeCPU), perCPU(singleCPU), perCPU(batchCPU)))
        }
        print("wall: frames/s (clips/s for the batch); cpu: frames per CPU-second of the whole process.")
        print("draw = drawing frames only; encode = H.264 of the same frames from memory (the reference);")
        print("clip = draw + encode + JSON one clip at a time; batch = `actiond synth` with --jobs \(jobs).")
    }

    /// Wall seconds of `body`; `cpu` gets the process CPU seconds it used (all threads, x264's included),
    /// which other jobs on a shared machine disturb far less than wall time.
    static func seconds(cpu: inout [Double], _ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
        try body()
        cpu.append(processCPUSeconds() - cpuStart)
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
