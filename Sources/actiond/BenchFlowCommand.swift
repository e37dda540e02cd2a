// `actiond bench flow`: median milliseconds per frame pair of a flow method on a generated textured pair,
// optionally with its endpoint error on the synthetic ground-truth set; also dumps that set for tools/flow/.
import ArgumentParser
import Flow
import Foundation
import TextFormat

extension FlowMethod: ExpressibleByArgument {}
extension DISPreset: ExpressibleByArgument {}

struct BenchFlow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flow",
        abstract: "Median ms per frame pair of dense optical flow on a generated textured pair.",
        discussion: """
            The timed pair is the synthetic 'smooth-field' pair at --size (textured, known motion). \
            --epe adds the mean endpoint error on the five synthetic motions at that size. \
            --dump-pairs DIR writes the synthetic pairs at 320x240 and 640x480 as .npy (frames uint8, \
            truth float32 HxWx2) plus manifest.json, for tools/flow/opencv_reference.py, and exits.
            """)

    @Option(help: "Frame size WxH.")
    var size = Size(width: 640, height: 480)

    @Option(help: "Flow method: dis or farneback.")
    var method: FlowMethod = .dis

    @Option(help: "DIS preset: ultrafast, fast or medium (ignored by farneback).")
    var preset: DISPreset = .fast

    @Option(help: "Threads (row bands and patch stripes).")
    var threads: Int = 1

    @Option(help: "Override the preset's DIS patch size.")
    var patchSize: Int?
    @Option(help: "Override the preset's DIS patch stride.")
    var patchStride: Int?
    @Option(help: "Override the preset's DIS gradient-descent iterations.")
    var descentIterations: Int?
    @Option(help: "Override the preset's DIS finest scale.")
    var finestScale: Int?
    @Option(help: "Override the preset's DIS variational refinement iterations.")
    var refinementIterations: Int?

    @Option(help: "Timed runs (the median is reported).")
    var runs: Int = 15

    @Flag(help: "Also report endpoint error against ground truth on the synthetic motions at --size.")
    var epe = false

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("With --epe: also write each computed field as DIR/NAME_ours.npy (for analysis).",
                               valueName: "dir"))
    var dumpFlows: String?

    @Option(help: ArgumentHelp("Write the synthetic pairs as .npy into this directory and exit.",
                               valueName: "dir"))
    var dumpPairs: String?

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be ≥ 1") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64") }
    }

    func run() async throws {
        if let dumpPairs {
            try dump(to: dumpPairs)
            return
        }
        var estimator = OpticalFlow(method: method, preset: preset, threads: threads)
        if let patchSize { estimator.disOptions.patchSize = patchSize }
        if let patchStride { estimator.disOptions.patchStride = patchStride }
        if let descentIterations { estimator.disOptions.gradientDescentIterations = descentIterations }
        if let finestScale { estimator.disOptions.finestScale = finestScale }
        if let refinementIterations { estimator.disOptions.variationalRefinementIterations = refinementIterations }
        let pair = SyntheticFlowPair(motion: .smoothField, width: size.width, height: size.height)
        _ = try estimator.flow(from: pair.first, to: pair.second)  // warm-up: page in, spin up threads
        var times: [Double] = [], cpuTimes: [Double] = []
        for _ in 0..<runs {
            let cpuStart = processCPUSeconds()
            let start = DispatchTime.now().uptimeNanoseconds
            let field = try estimator.flow(from: pair.first, to: pair.second)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            cpuTimes.append((processCPUSeconds() - cpuStart) * 1e3)
            if field.values.isEmpty && size.width > 0 { print("") }  // keeps the result observable
        }
        var errors: [(String, Double)] = []
        if epe {
            for motion in SyntheticFlowPair.Motion.allCases {
                let p = SyntheticFlowPair(motion: motion, width: size.width, height: size.height)
                let field = try estimator.flow(from: p.first, to: p.second)
                if let dumpFlows {
                    let path = (dumpFlows as NSString).appendingPathComponent(p.name + "_ours.npy")
                    try field.npyData().write(to: URL(fileURLWithPath: path))
                }
                errors.append((motion.rawValue, field.endpointError(to: p.truth, mask: p.truth.targetsInsideFrame())))
            }
        }
        let meanEPE = errors.isEmpty ? nil : errors.map(\.1).reduce(0, +) / Double(errors.count)
        let label = method == .dis ? "dis-\(preset.rawValue)" : "farneback"
        if json {
            var fields = ["\"size\":" + jsonString("\(size)"), "\"method\":" + jsonString(label),
                          "\"threads\":\(threads)",
                          "\"median_ms\":" + decimal(median(times), digits: 3),
                          "\"min_ms\":" + decimal(times.min()!, digits: 3),
                          "\"median_cpu_ms\":" + decimal(median(cpuTimes), digits: 3)]
            if let meanEPE {
                let per = errors.map { jsonString($0.0) + ":" + decimal($0.1, digits: 4) }.joined(separator: ",")
                fields.append("\"epe_mean\":" + decimal(meanEPE, digits: 4))
                fields.append("\"epe\":{\(per)}")
            }
            print("{" + fields.joined(separator: ",") + "}")
        } else {
            print("flow \(label)  \(size)  threads \(threads)  runs \(runs)")
            print(String(format: "median: %.3f ms per pair  (min %.3f, max %.3f); CPU time median %.3f ms",
                         median(times), times.min()!, times.max()!, median(cpuTimes)))
            for (name, e) in errors { print(String(format: "  EPE %-20@ %.4f px", name, e)) }
            if let meanEPE { print(String(format: "  EPE %-20@ %.4f px", "mean", meanEPE)) }
        }
    }

    private func dump(to directory: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var entries: [String] = []
        for (w, h) in [(320, 240), (640, 480)] {
            for motion in SyntheticFlowPair.Motion.allCases {
                let pair = SyntheticFlowPair(motion: motion, width: w, height: h)
                let base = (directory as NSString).appendingPathComponent(pair.name)
                try pair.first.npyData().write(to: URL(fileURLWithPath: base + "_frame1.npy"))
                try pair.second.npyData().write(to: URL(fileURLWithPath: base + "_frame2.npy"))
                try pair.truth.npyData().write(to: URL(fileURLWithPath: base + "_truth.npy"))
                entries.append("{\"name\":\"\(pair.name)\",\"motion\":\"\(motion.rawValue)\",\"width\":\(w),"
                               + "\"height\":\(h),\"fingerprint\":\"\(pair.fingerprint)\"}")
            }
        }
        let manifest = "{\"pairs\":[\n  " + entries.joined(separator: ",\n  ") + "\n]}\n"
        try manifest.write(toFile: (directory as NSString).appendingPathComponent("manifest.json"),
                           atomically: true, encoding: .utf8)
        print("wrote \(entries.count) pairs to \(directory)")
    }
}

/// CPU time of the whole process (all threads), in seconds: unlike wall time, it does not grow when other
/// processes compete for the cores.
func processCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
