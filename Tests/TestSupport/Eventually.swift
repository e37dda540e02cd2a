// Waiting in tests for something another thread or process does: poll a condition until it holds or a
// deadline passes, instead of sleeping a guessed time.

import Foundation

/// Polls `condition` every `poll` seconds until it holds or `timeout` seconds pass; returns whether it held
/// (checked once more at the deadline). Blocks the calling thread.
public func eventually(
    timeout: Double = 10, poll: Double = 0.05, _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: poll)
    }
    return try condition()
}

/// Polls `condition` every `poll` seconds, suspending between tries, until it holds or `timeout` seconds pass;
/// returns whether it held (checked once more at the deadline).
public func eventually(
    timeout: Double = 10, poll: Double = 0.001, _ condition: () throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(nanoseconds: UInt64(poll * 1e9))
    }
    return try condition()
}
