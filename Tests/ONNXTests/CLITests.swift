// End-to-end runs of the model commands through the built binary (`make test` sets ACTIOND_BIN): infer
// writes outputs that match ONNX Runtime, bench model --json prints the agreed object, exit codes follow
// the convention (1 bad model, 2 bad arguments).
import Foundation
import Tensor
import TestSupport
import Testing

private let binary = ProcessInfo.processInfo.environment["ACTIOND_BIN"]

private func actiond(_ arguments: [String]) throws -> ProcessResult { try runProcess(binary!, arguments) }

@Suite(.enabled(if: binary != nil, "needs ACTIOND_BIN (set by make test)"))
struct CLITests {
    let fixture = Fixtures.directory.appendingPathComponent("model_yolov8_pose")

    @Test func inferWritesOutputsMatchingONNXRuntime() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-infer-\(getpid())")
        defer { try? FileManager.default.removeItem(at: out) }
        let model = fixture.appendingPathComponent("model.onnx").path
        let input = fixture.appendingPathComponent("input_0.npy").path
        let result = try actiond(["infer", model, "--input", "images=\(input)", "--out", out.path, "--threads", "1"])
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let ours = try Tensor(npyFile: out.appendingPathComponent("output0.npy").path)
        let reference = try Tensor(npyFile: fixture.appendingPathComponent("output_0.npy").path)
        #expect(ours.shape == reference.shape)
        let scale = max(1, reference.floats.map { abs($0) }.max() ?? 0)
        #expect(zip(ours.floats, reference.floats).allSatisfy { abs($0 - $1) <= 1e-4 * scale })
    }

    @Test func benchModelJSONHasTheAgreedKeys() throws {
        let model = fixture.appendingPathComponent("model.onnx").path
        let result = try actiond(["bench", "model", model, "--runs", "2", "--warmup", "1", "--threads", "1", "--json"])
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        let object = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        #expect(Set(object.keys) == ["model", "threads", "load_ms", "median_ms", "min_ms", "max_ms", "gflops",
                                     "peak_rss_mb"])
        #expect(object["threads"] as? Int == 1)
        #expect((object["median_ms"] as? Double ?? -1) > 0)
    }

    @Test func inspectListsOpsAndParameters() throws {
        let result = try actiond(["models", "inspect", fixture.appendingPathComponent("model.onnx").path])
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        #expect(result.stdout.contains("images: float32[1, 3,"))
        #expect(result.stdout.contains("Conv"))
        #expect(result.stdout.contains("unsupported ops: none"))
    }

    @Test func exitCodesFollowTheConvention() throws {
        let junk = FileManager.default.temporaryDirectory.appendingPathComponent("actiond-junk-\(getpid()).onnx")
        try Data("definitely not protobuf \u{1}\u{2}\u{3}".utf8).write(to: junk)
        defer { try? FileManager.default.removeItem(at: junk) }
        let bad = try actiond(["bench", "model", junk.path, "--runs", "1"])
        #expect(bad.status == 1)
        #expect(bad.stderr.hasPrefix("error: \(junk.path):"))
        let usage = try actiond(["infer", fixture.appendingPathComponent("model.onnx").path, "--input", "nonsense",
                                 "--out", "/tmp"])
        #expect(usage.status == 2)
        let threads = try actiond(["bench", "model", junk.path, "--threads", "0"])
        #expect(threads.status == 2)
    }

    /// Models that once crashed the process (132 GB of weights claimed, 2⁶² dimensions and pads, ...): every
    /// model command and `check` exit 1 with one `error:` line naming the file, never a signal.
    @Test func hostileModelsGiveOneErrorLine() throws {
        let corpus = Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("FuzzTests/Corpus/onnx")
        let models = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".onnx") }
        #expect(models.count >= 5)
        for name in models.sorted() {
            let path = corpus.appendingPathComponent(name).path
            for command in [["models", "inspect", path], ["bench", "model", path, "--runs", "1", "--warmup", "0"]] {
                let result = try actiond(command)
                #expect(result.status == 1, "\(command): \(result.stderr)")
                #expect(result.stderr.hasPrefix("error: \(path): "), "\(command): \(result.stderr)")
            }
        }
    }
}
