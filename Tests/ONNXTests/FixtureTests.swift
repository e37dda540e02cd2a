// Runs every case in Fixtures/manifest.json (ONNX Runtime references produced by tools/fixtures) through our
// engine and compares outputs within 1e-4 × max(1, max|reference|). One test reports all failing cases.
import Foundation
import Inference
import ONNX
import Tensor
import Testing

struct FixtureCase: Decodable {
    var name: String
    var kind: String
    var op: String?
    var description: String?
    var inputs: [String]
    var outputs: [String]
}

enum Fixtures {
    /// Located through the source path, so large model files are not copied into the test bundle.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func manifest() throws -> [FixtureCase] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode([FixtureCase].self, from: data)
    }

    /// Max |ours − reference| and the allowed tolerance, or a reason the comparison failed outright.
    static func run(_ fixture: FixtureCase) -> (maxDiff: Float, tolerance: Float, failure: String?) {
        let folder = directory.appendingPathComponent(fixture.name)
        do {
            let session = try ONNXModel.loadSession(folder.appendingPathComponent("model.onnx").path)
            var feeds: [String: Tensor] = [:]
            for (k, name) in fixture.inputs.enumerated() {
                feeds[name] = try Tensor(npyFile: folder.appendingPathComponent("input_\(k).npy").path)
            }
            let results = try session.run(feeds)
            var worst: Float = 0
            var tolerance: Float = 0
            for (k, name) in fixture.outputs.enumerated() {
                let reference = try Tensor(npyFile: folder.appendingPathComponent("output_\(k).npy").path)
                guard let ours = results[name] else { return (0, 0, "no output '\(name)'") }
                guard ours.shape == reference.shape else {
                    return (0, 0, "output '\(name)' shape \(ours.shape), reference \(reference.shape)")
                }
                let a = ours.floatValues
                let b = reference.floatValues
                let scale = max(1, b.map { abs($0) }.filter { $0.isFinite }.max() ?? 0)
                tolerance = max(tolerance, 1e-4 * scale)
                for i in a.indices {
                    if a[i].isNaN && b[i].isNaN { continue }
                    if a[i] == b[i] { continue }
                    let diff = abs(a[i] - b[i])
                    if diff.isNaN || diff > 1e-4 * scale {
                        worst = max(worst, diff.isNaN ? .infinity : diff)
                    } else {
                        worst = max(worst, diff)
                    }
                    if diff.isNaN || diff > 1e-4 * scale {
                        return (worst, 1e-4 * scale, "output '\(name)' element \(i): \(a[i]) vs \(b[i])")
                    }
                }
            }
            return (worst, tolerance, nil)
        } catch {
            return (0, 0, "\(error)")
        }
    }
}

/// Cases whose output shape depends on the value of a runtime graph input (ConstantOfShape fed its shape at
/// run time). The engine infers every shape once at load, so these must fail at load with `.unsupported`.
let dataDependentShapeCases: Set<String> = ["constantofshape_default", "constantofshape_int64"]

@Suite struct FixtureTests {
    @Test func everyFixtureMatchesONNXRuntime() throws {
        let cases = try Fixtures.manifest()
        #expect(!cases.isEmpty)
        var failures: [String] = []
        for fixture in cases where dataDependentShapeCases.contains(fixture.name) {
            let path = Fixtures.directory.appendingPathComponent(fixture.name).appendingPathComponent("model.onnx").path
            #expect(throws: ModelError.self) { try ONNXModel.loadSession(path) }
        }
        for fixture in cases where !dataDependentShapeCases.contains(fixture.name) {
            let result = Fixtures.run(fixture)
            if let failure = result.failure {
                failures.append("\(fixture.name) [\(fixture.op ?? fixture.kind)] max diff \(result.maxDiff) " +
                    "(tolerance \(result.tolerance)): \(failure)")
            }
        }
        let checked = cases.count - dataDependentShapeCases.count
        let summary = "\(checked - failures.count)/\(checked) fixtures match ONNX Runtime"
        print(summary)
        for line in failures { print("FAIL " + line) }
        #expect(failures.isEmpty, Comment(rawValue: "\(summary); failing:\n" + failures.joined(separator: "\n")))
    }
}
