// A thread of its own for work that blocks in the kernel (an FFmpeg read waiting on a network stream). Swift's
// cooperative pool has one thread per core: a task that blocks in a read holds one of them, and on a 2-core box
// two live streams waiting for packets would hold both, so no other stage (and no third stream) ever ran. A
// source hands each blocking call to its worker and suspends until it returns; the pool's threads stay free.
import Foundation

public final class BlockingWorker: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false

    /// Starts the thread; `name` shows in debuggers and `top -H`.
    public init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }

    /// Runs `body` on the worker's thread and returns its result; the calling task suspends meanwhile.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            condition.lock()
            guard !stopping else {
                condition.unlock()
                continuation.resume(throwing: CancellationError())
                return
            }
            jobs.append { continuation.resume(with: Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
    }

    /// Lets the thread end once the jobs already given are done. Later `run` calls throw `CancellationError`.
    /// The thread holds the worker until then, so every worker must be stopped.
    public func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}
