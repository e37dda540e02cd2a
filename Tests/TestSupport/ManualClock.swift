// A clock for code that takes its time from an injected closure: it stands still until the test advances it,
// and counts how often it was read, so a test can wait for the code to have looked at the time.
import Synchronization

/// Seconds that change only by `advance(by:)`. Pass `now` where the code under test takes a clock.
public final class ManualClock: Sendable {
    private let state: Mutex<(seconds: Double, reads: Int)>

    public init(start seconds: Double = 1000) { state = Mutex((seconds, 0)) }

    /// The current time; counts a read.
    public func now() -> Double {
        state.withLock {
            $0.reads += 1
            return $0.seconds
        }
    }

    /// Moves the time forward by `seconds`.
    public func advance(by seconds: Double) { state.withLock { $0.seconds += seconds } }

    /// How many times `now()` has been called.
    public var reads: Int { state.withLock { $0.reads } }
}
