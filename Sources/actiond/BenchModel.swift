// `actiond bench model MODEL.onnx`: load time, median/min/max latency, GFLOP/s (conv/gemm/matmul/recurrent
// FLOPs counted from shapes) and peak RSS on seeded random inputs. `--json` prints exactly one JSON object,
// which tools/bench-vs-ort parses.
import ArgumentParser
import Foundation
import Inference
import Kernels
import ONNX
import Tensor

struct BenchModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time one ONNX model on random inputs of its declared shapes (fixed seed); prints medians.")

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(help: "Kernel threads (default: ACTIOND_THREADS or all cores).")
    var threads: Int?

    @Option(help: "Timed runs; the median is reported.")
    var runs: Int = 10

    @Option(help: "Untimed runs first.")
    var warmup: Int = 2

    @Option(name: .customLong("shape"), help: "NAME=D0xD1x... for inputs with symbolic dimensions (default 1).")
    var shapes: [String] = []

    @Flag(help: "After the timed runs, profile one run and print time per op type and the slowest nodes.")
    var profile = false

    @Flag(help: "Print one JSON object {model, threads, load_ms, median_ms, min_ms, max_ms, gflops, peak_rss_mb}.")
    var json = false

    func run() throws {
        guard runs >= 1 else { throw UsageError("--runs must be at least 1, got \(runs)") }
        guard warmup >= 0 else { throw UsageError("--warmup must be at least 0, got \(warmup)") }
        let threadCount = try ThreadKnob.apply(threads)
        let overrides = try parseShapeOverrides(shapes)
        let loadStart = monotonicMilliseconds()
        let session = try ONNXModel.loadSession(model, inputShapes: overrides)
        let loadMs = monotonicMilliseconds() - loadStart
        let feeds = randomInputs(for: session)
        for _ in 0..<warmup { _ = try session.run(feeds) }
        var times: [Double] = []
        for _ in 0..<runs {
            let start = monotonicMilliseconds()
            _ = try session.run(feeds)
            times.append(monotonicMilliseconds() - start)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2]
            : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let gflops = session.flopsPerRun / (median * 1e6)
        let rss = peakResidentMB() ?? 0
        if json {
            let object: [String: Any] = [
                "model": model, "threads": threadCount, "load_ms": rounded(loadMs), "median_ms": rounded(median),
                "min_ms": rounded(times.first!), "max_ms": rounded(times.last!), "gflops": rounded(gflops),
                "peak_rss_mb": rounded(rss),
            ]
            let data = try JSONSerialization.data(withJSONObject: object,
                                                  options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("bench model: \(model)")
        print("  threads \(threadCount) (OpenBLAS core \(KernelThreads.blasCoreName)), \(warmup) warmup + \(runs) runs")
        print("  inputs: " + session.inputs.map { "\($0.name) \($0.type)" }.joined(separator: ", "))
        print("  nodes: \(session.sourceNodeCount) in the file, \(session.runtimeNodeCount) after folding and fusion")
        print(String(format: "  load %.1f ms", loadMs))
        print(String(format: "  latency median %.3f ms  min %.3f ms  max %.3f ms", median, times.first!, times.last!))
        print(String(format: "  %.2f GFLOP per run, %.1f GFLOP/s at the median", session.flopsPerRun / 1e9, gflops))
        print(String(format: "  activations %.1f MB planned (%.1f MB live at the busiest step, %.1f MB without " +
                     "reuse), workspace %.1f MB, constants %.1f MB",
                     Double(session.arenaBytes) / 1e6, Double(session.peakLiveBytes) / 1e6,
                     Double(session.unplannedBytes) / 1e6, Double(session.workspaceBytes) / 1e6,
                     Double(session.constantBytes) / 1e6))
        print(String(format: "  peak RSS %.1f MB", rss))
        if profile { try printProfile(session, feeds) }
    }

    /// Median of five profiled runs per node, summed per op type, then the ten slowest nodes.
    private func printProfile(_ session: Session, _ feeds: [String: Tensor]) throws {
        let runs = try (0..<5).map { _ in try session.profile(feeds) }
        let nodes = runs[0].indices.map { index -> Session.NodeTiming in
            var timing = runs[0][index]
            timing.milliseconds = runs.map { $0[index].milliseconds }.sorted()[runs.count / 2]
            return timing
        }
        let total = nodes.reduce(0) { $0 + $1.milliseconds }
        var byType: [String: (ms: Double, count: Int)] = [:]
        for node in nodes {
            byType[node.opType, default: (0, 0)].ms += node.milliseconds
            byType[node.opType]!.count += 1
        }
        print(String(format: "  profile (median of 5, %.3f ms in nodes):", total))
        for (op, entry) in byType.sorted(by: { $0.value.ms > $1.value.ms }) {
            print("    " + padded(op, 20) + String(format: " %4d nodes %10.3f ms %5.1f%%", entry.count, entry.ms,
                                                     100 * entry.ms / max(total, 1e-9)))
        }
        print("  slowest nodes:")
        for node in nodes.sorted(by: { $0.milliseconds > $1.milliseconds }).prefix(10) {
            print("    " + padded(node.name, 48) + " " + padded(node.opType, 14) +
                  String(format: " %10.3f ms", node.milliseconds))
        }
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
