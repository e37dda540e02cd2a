// The `actiond` command line: subcommands are registered here; each lives in its own file.
import ArgumentParser
import Foundation

@main
struct Actiond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "actiond",
        abstract: "Video action recognition: decode, track, classify, and log what people do.",
        discussion: "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.",
        version: "0.1.0",
        subcommands: [
            Probe.self,
            Frames.self,
            TestClip.self,
            SynthCommand.self,
            FlowCommand.self,
            Infer.self,
            Models.self,
            Check.self,
            Classify.self,
            Detect.self,
            TrackCommand.self,
            Run.self,
            Dataset.self,
            Bench.self,
        ])

    /// Replaces ArgumentParser's entry point so exit codes follow our convention (usage errors are 2, not 64)
    /// and runtime errors print one clear line first, details after.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Foundation.exit(report(error))
        }
    }
}

/// Groups the benchmark commands (`actiond bench decode`, ...).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure throughput on this machine; prints medians.",
        subcommands: [
            BenchDecode.self,
            BenchModel.self,
            BenchConv.self,
            BenchFlow.self,
            BenchSynth.self,
            BenchDetect.self,
            BenchTrack.self,
        ])
}
