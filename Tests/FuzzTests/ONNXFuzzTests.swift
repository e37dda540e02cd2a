// The ONNX reader, loader and compiler under structured mutations of every fixture model: each mutant must
// load and run, or be rejected with a ModelError; a trap fails the run (and leaves its input on disk). Inputs
// that once crashed actiond are committed under Corpus/onnx and checked one by one.
import Foundation
import FuzzSupport
import Inference
import ONNX
import Tensor
import Testing

@Suite struct ONNXFuzzTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = here.deletingLastPathComponent().appendingPathComponent("ONNXTests/Fixtures")
    static let crashers = here.appendingPathComponent("Corpus/onnx")

    /// Decodes, compiles and (when small) runs a model on zeros, as `actiond check` and `infer` would.
    static func exercise(_ bytes: [UInt8]) throws {
        let model = try ONNXModel(bytes: Data(bytes), path: "fuzz.onnx")
        let session = try model.makeSession(options: SessionOptions(modelPath: "fuzz.onnx"))
        guard session.arenaBytes < 64 << 20, session.flopsPerRun < 2e9,
              session.inputs.allSatisfy({ $0.type.byteCount < 64 << 20 }) else { return }
        var feeds: [String: Tensor] = [:]
        for port in session.inputs { feeds[port.name] = Tensor(zeros: port.type.shape, dtype: port.type.dtype) }
        _ = try session.run(feeds)
    }

    /// The hand-made ones (tools/fixtures/make_crashers.py) ask for impossible sizes and must be rejected; the
    /// ones the fuzzer found (fuzz-*) must load and run or be rejected, without a trap.
    @Test func committedCrashersAreHandled() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.crashers.path)
            .filter { $0.hasSuffix(".onnx") }.sorted()
        #expect(files.count >= 10)
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: Self.crashers.appendingPathComponent(file)))
            if file.hasPrefix("fuzz-") {
                do { try Self.exercise(bytes) } catch is ModelError {}
            } else {
                #expect(throws: ModelError.self, "\(file)") { try Self.exercise(bytes) }
            }
        }
    }

    @Test func structuredMutationsGiveTypedErrors() {
        let corpus = FuzzCampaign.corpus(in: Self.fixtures, suffix: ".onnx")
            .filter { $0.count < 256 << 10 } + FuzzCampaign.corpus(in: Self.crashers, suffix: ".onnx")
        #expect(corpus.count > 250)
        let campaign = FuzzCampaign("onnx", iterations: 3000, seed: 13)
        let report = campaign.run(corpus: corpus, mutate: ONNXMutator.mutate,
                                  isExpected: { $0 is ModelError }, body: Self.exercise)
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
        // Mutants must reach the compiler, not all die in the protobuf reader.
        #expect(report.accepted > report.iterations / 20)
    }

    @Test func byteMutationsGiveTypedErrors() {
        let corpus = FuzzCampaign.corpus(in: Self.fixtures, suffix: ".onnx").filter { $0.count < 16 << 10 }
        let campaign = FuzzCampaign("onnx-bytes", iterations: 1000, seed: 29)
        let report = campaign.run(corpus: corpus, mutate: ByteMutation.apply,
                                  isExpected: { $0 is ModelError }, body: Self.exercise)
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
    }

    /// `ACTIOND_FUZZ_REPRO=FILE swift test --filter ONNXFuzzTests/reproduce`: runs one saved input in process,
    /// so a crash prints its backtrace.
    @Test func reproduce() throws {
        guard let path = ProcessInfo.processInfo.environment["ACTIOND_FUZZ_REPRO"] else { return }
        do { try Self.exercise([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) } catch is ModelError {}
    }
}
