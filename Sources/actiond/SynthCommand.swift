// `actiond synth`: renders clips of the rendered world (video + ground-truth JSON) in parallel.
import ArgumentParser
import Dispatch
import Foundation
import Synth

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Render synthetic action clips: DIR/<name>.mp4 plus DIR/<name>.json ground truth (docs/synth.md).",
        discussion: "Clip i of a run uses a seed derived from (--seed, i): the same options give the same clips, "
            + "and clips can be rendered in any order or split across runs with --first.")

    @Option(help: "Output directory (created if missing).")
    var out: String?

    @Option(help: "Run seed; with the clip number it determines each clip.")
    var seed: UInt64 = 0

    @Option(help: "Number of clips.")
    var clips: Int = 1

    @Option(help: "Number of the first clip (to split one run across several invocations).")
    var first: Int = 0

    @Option(help: "Length of each clip in seconds.")
    var seconds: Double = 4

    @Option(help: "Frame size WxH (even numbers, at least 32x32).")
    var size: Size = Size(width: 320, height: 240)

    @Option(help: "Frames per second.")
    var fps: Int = 15

    @Option(help: ArgumentHelp("People per clip: one performer plus people walking or running across (default 1); "
                               + "with --busy the most people a clip has (default 6).", valueName: "K"))
    var people: Int?

    @Flag(help: ArgumentHelp("Busy scenes: each clip has 1 to --people people at all distances who stand and act, "
                             + "walk in, across and out, and hide each other and behind props (docs/synth.md)."))
    var busy = false

    @Option(help: ArgumentHelp("Comma-separated actions the performer (with --busy: everyone standing) draws from "
                               + "(default: all; see --list-actions)."))
    var actions: String?

    @Flag(name: .customLong("switch"), help: "Let the performer change action within a clip.")
    var switching = false

    @Flag(help: "Without --switch, clip i performs action i mod (number of actions): exactly balanced classes.")
    var balanced = false

    @Option(help: "Segment length range in seconds when switching, MIN:MAX.")
    var segment: String = "1.5:3.5"

    @Option(help: "H.264 CRF for every clip (default: drawn per clip from 18-30).")
    var quality: Int?

    @Option(help: "Clips rendered at once.")
    var jobs: Int = 2

    @Flag(help: "Print the action vocabulary and exit.")
    var listActions = false

    func parsedActions() throws -> [Action] {
        guard let actions else { return Action.allCases }
        return try actions.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let action = Action(rawValue: trimmed) else {
                throw ValidationError("unknown action '\(trimmed)' in --actions; known: "
                    + Action.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return action
        }
    }

    func segmentRange() throws -> ClosedRange<Double> {
        let parts = segment.split(separator: ":").compactMap { Double($0) }
        guard parts.count == 2, parts[0] >= 0.5, parts[1] >= parts[0] else {
            throw ValidationError("--segment must be MIN:MAX seconds with 0.5 <= MIN <= MAX, e.g. 1.5:3.5")
        }
        return parts[0]...parts[1]
    }

    func validate() throws {
        if listActions { return }
        guard out != nil else { throw ValidationError("--out DIR is required") }
        guard size.width >= 32, size.height >= 32, size.width % 2 == 0, size.height % 2 == 0 else {
            throw ValidationError("--size must be even and at least 32x32 (H.264 4:2:0 needs even sizes)")
        }
        guard clips >= 1 else { throw ValidationError("--clips must be at least 1") }
        guard first >= 0 else { throw ValidationError("--first must be 0 or more") }
        guard fps >= 1, fps <= 120 else { throw ValidationError("--fps must be in 1...120") }
        guard seconds > 0, seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard (1...16).contains(people ?? 1) else { throw ValidationError("--people must be in 1...16") }
        if busy, balanced {
            throw ValidationError("--balanced cycles the performer's action; busy scenes have no performer (drop one)")
        }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let quality, !(0...51).contains(quality) { throw ValidationError("--quality must be in 0...51") }
        if try parsedActions().isEmpty { throw ValidationError("--actions lists no action") }
        _ = try segmentRange()
    }

    func run() throws {
        if listActions {
            for action in Action.allCases {
                print(action.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + action.summary)
            }
            return
        }
        let directory = out!
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw UsageError("cannot create --out directory \(directory): \(error.localizedDescription)")
        }
        let options = SynthOptions(width: size.width, height: size.height, fps: fps, seconds: seconds,
                                   people: people ?? (busy ? 6 : 1), actions: try parsedActions(),
                                   switching: switching, segmentSeconds: try segmentRange(), quality: quality,
                                   balanced: balanced, busy: busy)
        let total = clips, frames = options.frameCount
        let started = DispatchTime.now().uptimeNanoseconds
        let elapsed = { @Sendable in Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        try Synth.renderClips(options: options, seed: seed, clips: first..<(first + clips), directory: directory,
                              jobs: jobs) { done in
            let t = elapsed()
            writeStderr(String(format: "synth: %d/%d clips, %.2f clips/s, %.0f frames/s", done, total,
                               Double(done) / t, Double(done * frames) / t))
        }
        let t = elapsed()
        print("wrote \(total) clips (\(frames) frames each, \(size), \(fps) fps) to \(directory) in "
            + String(format: "%.2f s: %.2f clips/s, %.0f frames/s", t, Double(total) / t, Double(total * frames) / t))
    }
}
