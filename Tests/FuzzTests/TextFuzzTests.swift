// The config loader (pipeline YAML and the model cards it names), the `.npy` reader and the HTTP request
// parser under mutation: each input is accepted or rejected with the component's own error type, never a trap.
import Foundation
import FuzzSupport
import Pipeline
import Tensor
import Testing
@testable import Daemon

/// YAML-aware text mutations: whole lines moved, dropped, re-indented; scalars replaced by values that
/// stress number parsing, sizes, anchors and flow syntax; then occasionally raw byte damage on top.
enum YAMLMutator {
    static let scalars = [
        "-1", "0", "1e308", "-1e308", ".nan", ".inf", "-.inf", "99999999999999999999", "0x7fffffffffffffff", "",
        "~", "[", "{", "]", "}", "*a", "&a x", "!!binary AAAA", "? x", "|", ">", "- - -", "'", "\"", "#",
        "9999999x9999999", "0x0", "-5x-5", "64TB", "18446744073709551616MB", "\u{0}", "\u{202E}", "a: b: c",
        String(repeating: "x", count: 5000), "move:", "move:/", "/dev/null", "../../../../etc/passwd",
        "[&a [*a, *a, *a, *a], *a]", "{a: 1, a: 2}", "<<: {x: 1}", "rtsp://", "udp://@:0",
    ]

    static func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
        for _ in 0..<Int.random(in: 1...3, using: &rng) where !lines.isEmpty {
            let at = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: lines.remove(at: at)
            case 1: lines.insert(lines[at], at: at)
            case 2: lines.swapAt(at, Int.random(in: 0..<lines.count, using: &rng))
            case 3: lines[at] = String(repeating: " ", count: Int.random(in: 0...6, using: &rng))
                + lines[at].drop { $0 == " " }
            default:
                // Replace the value after a key (or a flow-map value) with a hostile scalar.
                let line = lines[at]
                let separators = line.indices.filter { line[$0] == ":" || line[$0] == "," || line[$0] == "-" }
                let scalar = scalars.randomElement(using: &rng)!
                if let cut = separators.randomElement(using: &rng) {
                    let tail = line[line.index(after: cut)...]
                    let end = tail.firstIndex { $0 == "," || $0 == "}" || $0 == "]" } ?? tail.endIndex
                    lines[at] = String(line[...cut]) + " " + scalar + String(tail[end...])
                } else {
                    lines[at] += scalar
                }
            }
        }
        bytes = Array(lines.joined(separator: "\n").utf8)
        if Int.random(in: 0..<8, using: &rng) == 0 { ByteMutation.apply(&bytes, using: &rng) }
    }
}

@Suite struct TextFuzzTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let example = here.deletingLastPathComponent().appendingPathComponent("PipelineTests/Fixtures/example")
    static let shipped = here.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("pipelines")

    @Test func pipelineConfigsGiveDiagnostics() throws {
        // Configs are validated as if they lived in pipelines/ (their model cards resolve), and the example
        // (every section) beside its placeholder cards.
        var corpus: [[UInt8]] = []
        var paths: [String] = []
        for directory in [Self.shipped, Self.example] {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            where name.hasSuffix(".yaml") {
                let url = directory.appendingPathComponent(name)
                corpus.append([UInt8](try Data(contentsOf: url)))
                paths.append(url.path)
            }
        }
        #expect(corpus.count >= 5)
        var index = 0
        let campaign = FuzzCampaign("config", iterations: 1500, seed: 41)
        let report = campaign.run(corpus: corpus, mutate: YAMLMutator.mutate, isExpected: { $0 is ConfigError }) {
            let path = paths[index % paths.count]
            index += 1
            _ = try ConfigLoader.load(text: String(decoding: $0, as: UTF8.self), path: path)
        }
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
        #expect(report.accepted > 0 && report.rejected > 0)
    }

    @Test func modelCardsGiveDiagnostics() throws {
        // Each mutant card is written over its file in a copy of the example folder, then the whole config
        // is loaded: the card loader, label files and graph placeholders as `actiond check` sees them.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-cards-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.copyItem(at: Self.example, to: root)
        defer { try? FileManager.default.removeItem(at: root) }
        let cards = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("models").path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        let originals = try cards.map { [UInt8](try Data(contentsOf: root.appendingPathComponent("models/\($0)"))) }
        var index = 0
        let campaign = FuzzCampaign("card", iterations: 600, seed: 43)
        let report = campaign.run(corpus: originals, mutate: YAMLMutator.mutate, isExpected: { $0 is ConfigError }) {
            let card = root.appendingPathComponent("models/\(cards[index % cards.count])")
            let original = originals[index % cards.count]
            index += 1
            try Data($0).write(to: card)
            defer { try? Data(original).write(to: card) }
            _ = try ConfigLoader.load(path: root.appendingPathComponent("pipeline.yaml").path)
        }
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
        #expect(report.rejected > 0)
    }

    @Test func npyFilesGiveNPYErrors() throws {
        var corpus: [[UInt8]] = []
        for shape in [[2, 3], [1], [], [4, 1, 2]] {
            corpus.append([UInt8](Tensor(shape: shape, floats: (0..<elementCount(shape)).map(Float.init)).npyData()))
            corpus.append([UInt8](Tensor(shape: shape, int64s: (0..<elementCount(shape)).map(Int64.init)).npyData()))
        }
        let campaign = FuzzCampaign("npy", iterations: 4000, seed: 47)
        let report = campaign.run(corpus: corpus, mutate: ByteMutation.apply, isExpected: { $0 is NPYError }) {
            _ = try Tensor(npy: Data($0), path: "fuzz.npy")
        }
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
        #expect(report.accepted > 0 && report.rejected > 0)
    }

    struct Refused: Error {}

    @Test func httpRequestHeadsAreParsedOrRefused() {
        let corpus = [
            "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nAccept: */*",
            "GET /healthz?verbose=1 HTTP/1.0\r\nUser-Agent: curl/8\r\nConnection: close",
            "HEAD http://localhost:9100/metrics HTTP/1.1\r\nHost: x",
            "OPTIONS * HTTP/1.1\r\nHost: a\r\nX-Empty:",
        ].map { Array($0.utf8) }
        let campaign = FuzzCampaign("http", iterations: 6000, seed: 53)
        let report = campaign.run(corpus: corpus, mutate: ByteMutation.apply, isExpected: { $0 is Refused }) {
            switch HTTPServer.parse($0[...]) {
            case .success(let request):
                // What is accepted is well formed: an upper-case method and a path that starts with "/".
                guard request.method.utf8.allSatisfy({ (65...90).contains($0) }),
                      request.path.hasPrefix("/") || request.path == "*" else { throw ParseInvariant() }
            case .failure(let refusal):
                guard [400, 505].contains(refusal.response.status) else { throw ParseInvariant() }
                throw Refused()
            }
        }
        print(report)
        #expect(report.unexpected.isEmpty, "\(report.unexpected)")
        #expect(report.accepted > 0 && report.rejected > 0)
    }

    struct ParseInvariant: Error {}
}
