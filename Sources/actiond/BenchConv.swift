// `actiond bench conv`: times the fast conv kernel on the conv layers of r3d_18, mc3_18, r2plus1d_18
// (1×3×16×112×112) and resnet18 (1×3×224×224), and prints per-layer medians, GFLOP/s and per-model totals.
// `tools/bench-conv.py` runs it with --json and times torch on the same shapes for ratios.
import ArgumentParser
import Foundation
import Kernels
import TextFormat

struct BenchConv: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract: "Time the fast convolution kernel on the conv layers of r3d_18, mc3_18, r2plus1d_18, resnet18.")

    @Option(help: "Kernel threads (OpenBLAS and our own loops); default: available cores.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Timed runs per layer; the median is reported.")
    var runs: Int = 5

    @Option(help: "Untimed runs per layer first.")
    var warmup: Int = 1

    @Option(help: "Only this model's layers: r3d_18, mc3_18, r2plus1d_18, resnet18 (default: all).")
    var model: String?

    @Option(help: "Only layers whose name contains this text.")
    var layer: String?

    @Flag(help: "Print one JSON object per line instead of a table.")
    var json = false

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1, got \(runs)") }
        if let model, !ConvBenchLayer.models.contains(model) {
            let known = ConvBenchLayer.models.joined(separator: ", ")
            throw ValidationError("unknown --model '\(model)'; expected one of \(known)")
        }
    }

    func run() throws {
        KernelThreads.set(threads)
        let layers = ConvBenchLayer.all.filter { l in
            (model == nil || l.model == model) && (layer == nil || l.name.contains(layer!))
        }
        if !json {
            print("bench conv: \(threads) thread(s), OpenBLAS core \(KernelThreads.blasCoreName), median of \(runs)")
            print(pad("layer", 26) + pad("geometry", 36) + lpad("n", 3) + lpad("median ms", 10) + lpad("min ms", 10)
                + lpad("cpu ms", 10) + lpad("GFLOP/s", 9))
        }
        var totals: [String: Double] = [:]
        for l in layers {
            let (ms, best, cpu) = time(l)
            let gflops = l.flops / (ms * 1e6)
            totals[l.model, default: 0] += ms * Double(l.count)
            if json {
                print(l.json(ms: ms, minimum: best, cpu: cpu, threads: threads))
            } else {
                print(pad(l.name, 26) + pad(l.summary, 36) + lpad("\(l.count)", 3) + lpad(format(ms), 10)
                    + lpad(format(best), 10) + lpad(format(cpu), 10) + lpad(String(format: "%.1f", gflops), 9))
            }
        }
        if !json {
            for m in ConvBenchLayer.models where totals[m] != nil {
                print("total \(m): \(String(format: "%.2f", totals[m]!)) ms of convs per inference")
            }
        }
    }

    /// Median and minimum wall time of `PackedConv.run` on random data, milliseconds.
    /// Also the median CPU time of the whole process per run (all threads): on a machine shared with other
    /// jobs it shows the work done, where wall time also shows waiting for a core.
    private func time(_ l: ConvBenchLayer) -> (median: Double, min: Double, cpu: Double) {
        let g = l.geometry
        // A cheap fixed-seed generator: the values only need to be ordinary floats, not good random numbers.
        var state: UInt32 = 12345
        func next(_ scale: Float) -> Float {
            state = state &* 1_664_525 &+ 1_013_904_223
            return (Float(state >> 8) / Float(1 << 24) * 2 - 1) * scale
        }
        let input = (0..<(g.inChannels * l.input.reduce(1, *))).map { _ in next(1) }
        let weight = (0..<g.weightCount).map { _ in next(0.1) }
        let bias = (0..<g.outChannels).map { _ in next(0.1) }
        let packed = PackedConv(g, weight: weight, bias: bias)
        var output = [Float](repeating: 0, count: g.outChannels * g.outputSpatial(for: l.input).reduce(1, *))
        var workspace = [Float](repeating: 0, count: max(1, packed.workspaceCount(batch: 1, inputSpatial: l.input)))
        var samples: [Double] = [], cpuSamples: [Double] = []
        for i in 0..<(warmup + runs) {
            let cpuStart = processCPUMilliseconds()
            let start = DispatchTime.now().uptimeNanoseconds
            packed.run(batch: 1, inputSpatial: l.input, input: input, output: &output, activation: .relu,
                       workspace: &workspace)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let cpu = processCPUMilliseconds() - cpuStart
            if i >= warmup {
                samples.append(elapsed)
                cpuSamples.append(cpu)
            }
        }
        let sorted = samples.sorted()
        return (sorted[sorted.count / 2], sorted[0], cpuSamples.sorted()[cpuSamples.count / 2])
    }

    private func format(_ ms: Double) -> String { String(format: "%.3f", ms) }

    private func pad(_ s: String, _ n: Int) -> String {
        s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count)
    }

    private func lpad(_ s: String, _ n: Int) -> String {
        s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s
    }
}

/// User + system CPU time of this process so far, all threads.
func processCPUMilliseconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1e3 + Double(t.tv_usec) / 1e3 }
    return ms(usage.ru_utime) + ms(usage.ru_stime)
}

/// One conv layer shape of a benchmark model, with how many times the model runs it.
struct ConvBenchLayer {
    var model: String
    var name: String
    var count: Int
    var input: [Int]
    var geometry: ConvGeometry

    static let models = ["r3d_18", "mc3_18", "r2plus1d_18", "resnet18"]

    var flops: Double {
        2 * Double(geometry.outChannels * geometry.outputSpatial(for: input).reduce(1, *))
            * Double(geometry.inChannelsPerGroup * geometry.kernelVolume)
    }

    var summary: String {
        let g = geometry
        return "\(g.inChannels)→\(g.outChannels) k\(g.kernel.map(String.init).joined(separator: "x"))"
            + " s\(g.strides.map(String.init).joined(separator: "x"))"
            + " @\(input.map(String.init).joined(separator: "x"))"
    }

    func json(ms: Double, minimum: Double, cpu: Double, threads: Int) -> String {
        let g = geometry
        func list(_ a: [Int]) -> String { "[" + a.map(String.init).joined(separator: ",") + "]" }
        return "{\"model\":\(jsonString(model)),\"layer\":\(jsonString(name)),"
            + "\"count\":\(count),\"threads\":\(threads),"
            + "\"in_channels\":\(g.inChannels),\"out_channels\":\(g.outChannels),\"group\":\(g.group),"
            + "\"input\":\(list(input)),\"kernel\":\(list(g.kernel)),\"strides\":\(list(g.strides)),"
            + "\"dilations\":\(list(g.dilations)),\"pads_begin\":\(list(g.padsBegin)),\"pads_end\":\(list(g.padsEnd)),"
            + "\"ms\":\(decimal(ms, digits: 4)),\"min_ms\":\(decimal(minimum, digits: 4)),"
            + "\"cpu_ms\":\(decimal(cpu, digits: 4)),\"gflop\":\(decimal(flops / 1e9, digits: 4))}"
    }

    /// A layer with symmetric padding `pad` per dimension.
    static func conv(
        _ model: String, _ name: String, _ count: Int, _ cin: Int, _ cout: Int, input: [Int], kernel: [Int],
        stride: [Int], pad: [Int]
    ) -> ConvBenchLayer {
        ConvBenchLayer(
            model: model, name: name, count: count, input: input,
            geometry: ConvGeometry(inChannels: cin, outChannels: cout, kernel: kernel, strides: stride,
                                   padsBegin: pad, padsEnd: pad))
    }

    static let all: [ConvBenchLayer] = r3d18 + mc318 + r2plus1d18 + resnet18

    // torchvision VideoResNet with Conv3DSimple blocks.
    static let r3d18: [ConvBenchLayer] = {
        let m = "r3d_18", k3 = [3, 3, 3], p1 = [1, 1, 1], s1 = [1, 1, 1], s2 = [2, 2, 2]
        return [
            conv(m, "stem", 1, 3, 64, input: [16, 112, 112], kernel: [3, 7, 7], stride: [1, 2, 2], pad: [1, 3, 3]),
            conv(m, "layer1.conv", 4, 64, 64, input: [16, 56, 56], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer2.0.conv1", 1, 64, 128, input: [16, 56, 56], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer2.conv", 3, 128, 128, input: [8, 28, 28], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer2.0.downsample", 1, 64, 128,
                 input: [16, 56, 56], kernel: [1, 1, 1], stride: s2, pad: [0, 0, 0]),
            conv(m, "layer3.0.conv1", 1, 128, 256, input: [8, 28, 28], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer3.conv", 3, 256, 256, input: [4, 14, 14], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer3.0.downsample", 1, 128, 256,
                 input: [8, 28, 28], kernel: [1, 1, 1], stride: s2, pad: [0, 0, 0]),
            conv(m, "layer4.0.conv1", 1, 256, 512, input: [4, 14, 14], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer4.conv", 3, 512, 512, input: [2, 7, 7], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer4.0.downsample", 1, 256, 512,
                 input: [4, 14, 14], kernel: [1, 1, 1], stride: s2, pad: [0, 0, 0]),
        ]
    }()

    // Conv3DSimple in layer1, Conv3DNoTemporal (1×3×3, spatial stride only) in layers 2–4.
    static let mc318: [ConvBenchLayer] = {
        let m = "mc3_18", k = [1, 3, 3], p = [0, 1, 1], s1 = [1, 1, 1], s2 = [1, 2, 2]
        let one = [1, 1, 1], zero = [0, 0, 0]
        return [
            conv(m, "stem", 1, 3, 64, input: [16, 112, 112], kernel: [3, 7, 7], stride: [1, 2, 2], pad: [1, 3, 3]),
            conv(m, "layer1.conv", 4, 64, 64, input: [16, 56, 56], kernel: [3, 3, 3], stride: s1, pad: [1, 1, 1]),
            conv(m, "layer2.0.conv1", 1, 64, 128, input: [16, 56, 56], kernel: k, stride: s2, pad: p),
            conv(m, "layer2.conv", 3, 128, 128, input: [16, 28, 28], kernel: k, stride: s1, pad: p),
            conv(m, "layer2.0.downsample", 1, 64, 128, input: [16, 56, 56], kernel: one, stride: s2, pad: zero),
            conv(m, "layer3.0.conv1", 1, 128, 256, input: [16, 28, 28], kernel: k, stride: s2, pad: p),
            conv(m, "layer3.conv", 3, 256, 256, input: [16, 14, 14], kernel: k, stride: s1, pad: p),
            conv(m, "layer3.0.downsample", 1, 128, 256, input: [16, 28, 28], kernel: one, stride: s2, pad: zero),
            conv(m, "layer4.0.conv1", 1, 256, 512, input: [16, 14, 14], kernel: k, stride: s2, pad: p),
            conv(m, "layer4.conv", 3, 512, 512, input: [16, 7, 7], kernel: k, stride: s1, pad: p),
            conv(m, "layer4.0.downsample", 1, 256, 512, input: [16, 14, 14], kernel: one, stride: s2, pad: zero),
        ]
    }()

    // Conv2Plus1D blocks: a 1×3×3 spatial conv to `mid` channels, then a 3×1×1 temporal conv.
    static let r2plus1d18: [ConvBenchLayer] = {
        let m = "r2plus1d_18", ks = [1, 3, 3], ps = [0, 1, 1], kt = [3, 1, 1], pt = [1, 0, 0], s1 = [1, 1, 1]
        let one = [1, 1, 1], zero = [0, 0, 0]
        return [
            conv(m, "stem.spatial", 1, 3, 45,
                 input: [16, 112, 112], kernel: [1, 7, 7], stride: [1, 2, 2], pad: [0, 3, 3]),
            conv(m, "stem.temporal", 1, 45, 64, input: [16, 56, 56], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer1.spatial", 4, 64, 144, input: [16, 56, 56], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer1.temporal", 4, 144, 64, input: [16, 56, 56], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer2.0.conv1.spatial", 1, 64, 230, input: [16, 56, 56], kernel: ks, stride: [1, 2, 2], pad: ps),
            conv(m, "layer2.0.conv1.temporal", 1, 230, 128,
                 input: [16, 28, 28], kernel: kt, stride: [2, 1, 1], pad: pt),
            conv(m, "layer2.0.conv2.spatial", 1, 128, 230, input: [8, 28, 28], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer2.0.conv2.temporal", 1, 230, 128, input: [8, 28, 28], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer2.0.downsample", 1, 64, 128, input: [16, 56, 56], kernel: one, stride: [2, 2, 2], pad: zero),
            conv(m, "layer2.1.spatial", 2, 128, 288, input: [8, 28, 28], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer2.1.temporal", 2, 288, 128, input: [8, 28, 28], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer3.0.conv1.spatial", 1, 128, 460, input: [8, 28, 28], kernel: ks, stride: [1, 2, 2], pad: ps),
            conv(m, "layer3.0.conv1.temporal", 1, 460, 256, input: [8, 14, 14], kernel: kt, stride: [2, 1, 1], pad: pt),
            conv(m, "layer3.0.conv2.spatial", 1, 256, 460, input: [4, 14, 14], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer3.0.conv2.temporal", 1, 460, 256, input: [4, 14, 14], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer3.0.downsample", 1, 128, 256, input: [8, 28, 28], kernel: one, stride: [2, 2, 2], pad: zero),
            conv(m, "layer3.1.spatial", 2, 256, 576, input: [4, 14, 14], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer3.1.temporal", 2, 576, 256, input: [4, 14, 14], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer4.0.conv1.spatial", 1, 256, 921, input: [4, 14, 14], kernel: ks, stride: [1, 2, 2], pad: ps),
            conv(m, "layer4.0.conv1.temporal", 1, 921, 512, input: [4, 7, 7], kernel: kt, stride: [2, 1, 1], pad: pt),
            conv(m, "layer4.0.conv2.spatial", 1, 512, 921, input: [2, 7, 7], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer4.0.conv2.temporal", 1, 921, 512, input: [2, 7, 7], kernel: kt, stride: s1, pad: pt),
            conv(m, "layer4.0.downsample", 1, 256, 512, input: [4, 14, 14], kernel: one, stride: [2, 2, 2], pad: zero),
            conv(m, "layer4.1.spatial", 2, 512, 1152, input: [2, 7, 7], kernel: ks, stride: s1, pad: ps),
            conv(m, "layer4.1.temporal", 2, 1152, 512, input: [2, 7, 7], kernel: kt, stride: s1, pad: pt),
        ]
    }()

    static let resnet18: [ConvBenchLayer] = {
        let m = "resnet18", k3 = [3, 3], p1 = [1, 1], s1 = [1, 1], s2 = [2, 2], one = [1, 1], zero = [0, 0]
        return [
            conv(m, "conv1", 1, 3, 64, input: [224, 224], kernel: [7, 7], stride: s2, pad: [3, 3]),
            conv(m, "layer1.conv", 4, 64, 64, input: [56, 56], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer2.0.conv1", 1, 64, 128, input: [56, 56], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer2.conv", 3, 128, 128, input: [28, 28], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer2.0.downsample", 1, 64, 128, input: [56, 56], kernel: one, stride: s2, pad: zero),
            conv(m, "layer3.0.conv1", 1, 128, 256, input: [28, 28], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer3.conv", 3, 256, 256, input: [14, 14], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer3.0.downsample", 1, 128, 256, input: [28, 28], kernel: one, stride: s2, pad: zero),
            conv(m, "layer4.0.conv1", 1, 256, 512, input: [14, 14], kernel: k3, stride: s2, pad: p1),
            conv(m, "layer4.conv", 3, 512, 512, input: [7, 7], kernel: k3, stride: s1, pad: p1),
            conv(m, "layer4.0.downsample", 1, 256, 512, input: [14, 14], kernel: one, stride: s2, pad: zero),
        ]
    }()
}
