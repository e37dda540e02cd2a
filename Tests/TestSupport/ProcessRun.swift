// Running a program from a test: its exit status and both outputs, read concurrently so a chatty child never
// blocks on a full pipe, with a deadline after which it is killed so a hung child fails the test instead of
// hanging the run.
import Foundation
import Glibc
import Synchronization

/// What a finished program left: exit status, standard output and standard error (decoded as UTF-8).
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the program was still running at the deadline and was killed (SIGKILL).
    public var timedOut: Bool

    public init(status: Int32, stdout: String, stderr: String, timedOut: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }
}

/// Runs `executable` with `arguments` and waits for it. Standard output and standard error are drained
/// concurrently; at `timeout` seconds the program is killed and `timedOut` is set.
///
/// - Parameters:
///   - directory: the working directory, or the test's own.
///   - environment: the whole environment, or the test's own.
///   - input: bytes for standard input (closed after them); nil gives the program no standard input.
public func runProcess(
    _ executable: String, _ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
    input: Data? = nil, timeout: Double = 600
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let stdin = input.map { _ in Pipe() }
    process.standardInput = stdin ?? FileHandle.nullDevice
    try process.run()

    let outputs = Mutex<(stdout: Data, stderr: Data)>((Data(), Data()))
    let readers = DispatchGroup()
    for (pipe, isError) in [(out, false), (err, true)] {
        readers.enter()
        DispatchQueue.global().async {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            outputs.withLock { if isError { $0.stderr = data } else { $0.stdout = data } }
            readers.leave()
        }
    }
    if let stdin, let input {
        DispatchQueue.global().async {
            try? stdin.fileHandleForWriting.write(contentsOf: input)
            try? stdin.fileHandleForWriting.close()
        }
    }

    let pid = process.processIdentifier
    let timedOut: Bool
    if readers.wait(timeout: .now() + timeout) == .timedOut {
        kill(pid, SIGKILL)
        timedOut = true
        readers.wait()
    } else {
        timedOut = false
    }
    process.waitUntilExit()
    let (stdout, stderr) = outputs.withLock { ($0.stdout, $0.stderr) }
    return ProcessResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self), timedOut: timedOut)
}
