// Errors raised while building or running the whole-frame stages, with the file or media time concerned.
import Foundation

public enum StagesError: Error, Sendable, CustomStringConvertible {
    /// A model card that cannot be run as asked (path, reason).
    case card(String, String)
    /// A pipeline config the stages cannot run yet (reason).
    case unsupported(String)
    /// A two-stream clip reached classify without flow (the flow stage did not run).
    case missingFlow(time: Double)
    /// A graph's output had an unexpected size.
    case output(model: String, expected: Int, got: Int)

    public var description: String {
        switch self {
        case let .card(path, reason): return "\(path): \(reason)"
        case let .unsupported(reason): return reason
        case let .missingFlow(time):
            return String(format: "the frame at t=%.3fs has no flow: a two-stream classifier needs a `flow` stage "
                          + "before it", time)
        case let .output(model, expected, got):
            return "model \(model) gave \(got) scores, expected \(expected) (one per label)"
        }
    }
}
