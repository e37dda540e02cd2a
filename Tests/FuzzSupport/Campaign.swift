// Deterministic mutation fuzzing for the test suite and `make fuzz`: byte-level mutation primitives drawing
// from SplitMix64 (SeededRandom, re-exported here), and a campaign runner that saves the input under test
// before each attempt, so a crash (which ends the process) leaves its reproducer on disk.
import Foundation
@_exported import SeededRandom

/// Integer values that break size arithmetic: boundaries of the common widths, zero, negatives.
public let interestingIntegers: [Int64] = [
    0, 1, -1, 2, 3, 7, 16, 255, 256, 65_535, 65_536, 1 << 20, Int64(Int32.max), Int64(Int32.max) + 1,
    Int64(UInt32.max), 1 << 40, 1 << 62, Int64.max, Int64.min, -(1 << 31), -2, -(1 << 62),
]

/// Byte-level mutations, for formats whose structure a campaign does not model.
public enum ByteMutation {
    public static func apply(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        let rounds = Int.random(in: 1...4, using: &rng)
        for _ in 0..<rounds {
            switch Int.random(in: 0..<7, using: &rng) {
            case 0 where !bytes.isEmpty:  // flip one bit
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1 where !bytes.isEmpty:  // an interesting byte
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = [0, 0xFF, 0x7F, 0x80, 0x0A, 0x22, 0x3A]
                    .randomElement(using: &rng)!
            case 2 where !bytes.isEmpty:  // delete a range
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let length = Int.random(in: 1...min(16, bytes.count - start), using: &rng)
                bytes.removeSubrange(start..<(start + length))
            case 3 where !bytes.isEmpty:  // duplicate a range in place
                let start = Int.random(in: 0..<bytes.count, using: &rng)
                let length = Int.random(in: 1...min(32, bytes.count - start), using: &rng)
                bytes.insert(contentsOf: bytes[start..<(start + length)], at: start)
            case 4:  // insert random bytes
                let at = Int.random(in: 0...bytes.count, using: &rng)
                let count = Int.random(in: 1...8, using: &rng)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 5 where !bytes.isEmpty:  // truncate
                bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
            case 6 where bytes.count >= 8:  // an interesting little-endian integer over 1, 2, 4 or 8 bytes
                let width = [1, 2, 4, 8].randomElement(using: &rng)!
                let at = Int.random(in: 0...(bytes.count - width), using: &rng)
                var value = UInt64(bitPattern: interestingIntegers.randomElement(using: &rng)!)
                for k in 0..<width {
                    bytes[at + k] = UInt8(truncatingIfNeeded: value)
                    value >>= 8
                }
            default: break
            }
        }
    }
}

/// What one campaign did: how many inputs were accepted, how many rejected with an expected error, and the
/// most frequent rejection messages (a campaign whose inputs are all rejected early tests little).
public struct CampaignReport: CustomStringConvertible, Sendable {
    public var name: String
    public var iterations = 0
    public var accepted = 0
    public var rejected = 0
    public var unexpected: [String] = []
    public var seconds = 0.0
    public var reasons: [String: Int] = [:]

    /// The counts, and the most frequent rejection reasons when `ACTIOND_FUZZ_ITERATIONS` is set (`make fuzz`):
    /// the short runs of `make test` print one line, without the quoted error text.
    public var description: String {
        guard ProcessInfo.processInfo.environment["ACTIOND_FUZZ_ITERATIONS"] != nil else { return headline }
        let top = reasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(5)
            .map { "    \($0.value)× \($0.key.prefix(110))" }
        return headline + "\n" + top.joined(separator: "\n")
    }

    var headline: String {
        "fuzz \(name): \(iterations) inputs in \(String(format: "%.1f", seconds)) s, \(accepted) accepted, " +
            "\(rejected) rejected with a typed error, \(unexpected.count) unexpected"
    }
}

/// A fuzz campaign: `iterations` mutants of the corpus, each handed to `body`. `body` returns normally for an
/// accepted input and throws for a rejected one; errors for which `isExpected` is false are recorded as
/// unexpected (the test then fails). A trap ends the process: the input being tried is then in
/// `<artifacts>/<name>-crash-candidate.bin`.
public struct FuzzCampaign {
    public let name: String
    public let iterations: Int
    public let seed: UInt64
    public let artifacts: URL
    /// Inputs to generate but not run (`ACTIOND_FUZZ_SKIP`): `make fuzz` resumes a campaign after a crash.
    public let skip: Int

    /// Iterations and seed come from `ACTIOND_FUZZ_ITERATIONS` / `ACTIOND_FUZZ_SEED` when set (`make fuzz`),
    /// else from the arguments (the short run in `make test`). Artifacts go to `ACTIOND_FUZZ_ARTIFACTS` or
    /// the temporary directory.
    public init(_ name: String, iterations: Int, seed: UInt64 = 1) {
        let environment = ProcessInfo.processInfo.environment
        self.name = name
        self.iterations = environment["ACTIOND_FUZZ_ITERATIONS"].flatMap(Int.init) ?? iterations
        self.seed = environment["ACTIOND_FUZZ_SEED"].flatMap(UInt64.init) ?? seed
        skip = environment["ACTIOND_FUZZ_SKIP"].flatMap(Int.init) ?? 0
        artifacts = URL(fileURLWithPath: environment["ACTIOND_FUZZ_ARTIFACTS"]
            ?? (NSTemporaryDirectory() + "actiond-fuzz"))
    }

    public var candidatePath: URL { artifacts.appendingPathComponent("\(name)-crash-candidate.bin") }

    public func run(corpus: [[UInt8]], mutate: (inout [UInt8], inout SplitMix64) -> Void,
                    isExpected: (Error) -> Bool, body: ([UInt8]) throws -> Void) -> CampaignReport {
        precondition(!corpus.isEmpty, "a fuzz campaign needs a seed corpus")
        try? FileManager.default.createDirectory(at: artifacts, withIntermediateDirectories: true)
        var rng = SplitMix64(seed: seed)
        var report = CampaignReport(name: name)
        let started = Date()
        for iteration in 0..<iterations {
            var input = corpus[iteration % corpus.count]
            mutate(&input, &rng)
            // Inputs before `skip` were tried by an earlier run that crashed on input `skip - 1`: mutated again
            // (so the generator is where it was) but not run.
            if iteration < skip { continue }
            // Saved before the attempt: a trap leaves this file behind as the reproducer, with its number.
            FileManager.default.createFile(atPath: candidatePath.path, contents: Data(input))
            FileManager.default.createFile(atPath: candidatePath.path + ".iteration",
                                           contents: Data("\(iteration)".utf8))
            report.iterations += 1
            do {
                try body(input)
                report.accepted += 1
            } catch {
                if isExpected(error) {
                    report.rejected += 1
                    let firstLine = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
                    report.reasons[Self.generalised(firstLine), default: 0] += 1
                } else {
                    report.unexpected.append("\(save(input, "unexpected", iteration)): \(type(of: error)): \(error)")
                }
            }
        }
        try? FileManager.default.removeItem(at: candidatePath)
        try? FileManager.default.removeItem(atPath: candidatePath.path + ".iteration")
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    private func save(_ input: [UInt8], _ kind: String, _ iteration: Int) -> String {
        let path = artifacts.appendingPathComponent("\(name)-\(kind)-\(iteration).bin").path
        FileManager.default.createFile(atPath: path, contents: Data(input))
        return path
    }

    /// Numbers and quoted names replaced, so rejection reasons group by kind.
    static func generalised(_ line: String) -> String {
        var result = ""
        var inQuote = false
        var lastWasDigit = false
        for character in line {
            if character == "'" {
                inQuote.toggle()
                if !inQuote { result += "'…'" }
                continue
            }
            if inQuote { continue }
            if character.isNumber {
                if !lastWasDigit { result += "N" }
                lastWasDigit = true
                continue
            }
            lastWasDigit = false
            result.append(character)
        }
        return result
    }

    /// Every file under `directory` whose name ends in `suffix`, sorted by path (a stable corpus order).
    public static func corpus(in directory: URL, suffix: String) -> [[UInt8]] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else {
            return []
        }
        var paths: [String] = []
        for case let url as URL in walker where url.lastPathComponent.hasSuffix(suffix) { paths.append(url.path) }
        return paths.sorted().compactMap { FileManager.default.contents(atPath: $0).map { [UInt8]($0) } }
    }
}
