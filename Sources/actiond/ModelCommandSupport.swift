// Shared pieces of the model commands (`infer`, `bench model`, `models inspect`): the thread knob, input-shape
// overrides, seeded random inputs and peak RSS.
import ArgumentParser
import Foundation
import Inference
import Kernels
import Tensor

enum ThreadKnob {
    /// `--threads` if given, else `ACTIOND_THREADS`, else the pipeline config's `threads:`, else every core.
    static func resolve(_ option: Int?, config: Int? = nil) throws -> Int {
        if let option {
            guard option >= 1 else { throw UsageError("--threads must be at least 1, got \(option)") }
            return option
        }
        if let text = ProcessInfo.processInfo.environment["ACTIOND_THREADS"], !text.isEmpty {
            guard let value = Int(text), value >= 1 else {
                throw UsageError("ACTIOND_THREADS must be a positive integer, got '\(text)'")
            }
            return value
        }
        return config ?? ProcessInfo.processInfo.activeProcessorCount
    }

    static func apply(_ option: Int?, config: Int? = nil) throws -> Int {
        let threads = try resolve(option, config: config)
        KernelThreads.set(threads)
        return threads
    }
}

/// Parses `NAME=1x3x16x112x112` shape overrides for inputs with symbolic dimensions.
func parseShapeOverrides(_ values: [String]) throws -> [String: [Int]] {
    var result: [String: [Int]] = [:]
    for value in values {
        let parts = value.split(separator: "=", maxSplits: 1).map(String.init)
        let dims = parts.count == 2 ? parts[1].split(separator: "x").map { Int($0) } : []
        guard parts.count == 2, !parts[0].isEmpty, !dims.isEmpty, dims.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw UsageError("--shape expects NAME=D0xD1x..., e.g. input=1x3x16x112x112; got '\(value)'")
        }
        result[parts[0]] = dims.map { $0! }
    }
    return result
}

/// Deterministic inputs of the session's declared types: floats uniform in [-1, 1), integers 0, bools false.
func randomInputs(for session: Session, seed: UInt64 = 42) -> [String: Tensor] {
    var state = seed
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407  // 64-bit LCG (Knuth MMIX constants)
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }
    var feeds: [String: Tensor] = [:]
    for port in session.inputs {
        switch port.type.dtype {
        case .float32:
            feeds[port.name] = Tensor(shape: port.type.shape, floats: (0..<port.type.count).map { _ in next() })
        default:
            feeds[port.name] = Tensor(zeros: port.type.shape, dtype: port.type.dtype)
        }
    }
    return feeds
}

/// Peak resident set size of this process in MB (VmHWM from /proc/self/status), or nil if unavailable.
func peakResidentMB() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let number = line.dropFirst(6).trimmingCharacters(in: .whitespaces).split(separator: " ").first
        return number.flatMap { Double($0) }.map { $0 / 1024 }
    }
    return nil
}

/// Milliseconds since an arbitrary origin (monotonic).
func monotonicMilliseconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e6
}
